#if CORRAL_FUZZ
@testable import Corral
@testable import CorralCore

/// A valid server name escapes to a unit name systemd accepts and comes back from it unchanged; parsing any unit name
/// or deriving a name from any command does not trap; a valid slice name is a chain of slices in the cgroup tree.
enum NameProperties {
    static func check(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let name = try? ServerName(text) {
            let escaped = name.escaped
            require(escaped.utf8.count <= ServerName.maximumEscapedLength && !escaped.hasPrefix(".")
                        && escaped.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ":_.\\-".contains($0)) },
                    "\(text.debugDescription) escapes to \(escaped)")
            require(ServerName.unescape(escaped[...]) == text, "\(escaped) does not unescape to \(text.debugDescription)")
            let unit = name.newUnitName()
            require(unit.utf8.count <= 255 && ServerName.from(unit: unit) == name, "\(unit) does not name \(text.debugDescription)")
        }
        if let parsed = ServerName.from(unit: text) {
            require(ServerName.from(unit: parsed.newUnitName()) == parsed, "\(text.debugDescription) names \(parsed)")
        }
        _ = ServerName.derived(from: text.split(separator: " ").map(String.init))
        if (try? SliceName.validate(text)) != nil, text != "-.slice" {
            let path = ServerSlice.cgroupPath(text, manager: .system).split(separator: "/")
            require(path.last.map(String.init) == text && path.allSatisfy { $0.hasSuffix(".slice") },
                    "\(text.debugDescription) has the cgroup path \(path)")
        }
    }
}
#endif
