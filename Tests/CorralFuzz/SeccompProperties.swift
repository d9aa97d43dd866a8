#if CORRAL_FUZZ
@testable import Corral
@testable import CorralCore

/// A profile that parses also compiles to BPF: compiling happens after the guardrail admission and the fork, so
/// every mistake must be caught while the profile is read.
enum SeccompProperties {
    static func check(_ bytes: [UInt8]) {
        guard let profile = try? SeccompProfile(ociJSON: String(decoding: bytes, as: UTF8.self)) else { return }
        do {
            let filter = try SeccompFilter(profile)
            require(!filter.program.isEmpty && filter.program.count % 8 == 0, "a BPF program of \(filter.program.count) bytes")
        } catch {
            require(false, "a profile that parses does not compile: \(error.message)")
        }
    }
}
#endif
