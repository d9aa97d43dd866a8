@testable import Corral
import Testing

/// Compiles profiles with the host's libseccomp.
@Suite("SeccompFilter")
struct SeccompFilterTests {
    @Test("the default profile compiles to classic BPF")
    func defaultProfile() throws {
        let filter = try SeccompFilter(.default)
        #expect(!filter.program.isEmpty)
        #expect(filter.program.count % 8 == 0)  // struct sock_filter is 8 bytes
        // More than a handful of instructions: an arch check plus one comparison per syscall at least.
        #expect(filter.program.count / 8 > SeccompProfile.deniedSyscalls.count)
    }

    @Test("--seccomp log compiles, to another program than the default")
    func auditingProfile() throws {
        let audited = try SeccompFilter(SeccompProfile.default.auditingRefusals).program
        #expect(!audited.isEmpty && audited.count % 8 == 0)
        #expect(audited != (try SeccompFilter(.default).program))
    }

    @Test("unknown names are skipped, and those of refusing rules are told")
    func unknownNames() throws {
        let profile = SeccompProfile(defaultAction: .allow, rules: [.init(["ptrace", "no_such_call"], .errno(1)),
                                                                    .init(["nor_this_one"], .allow)])
        #expect(try SeccompFilter(profile).unknownRefusals == ["no_such_call"])
        #expect(try SeccompFilter(.default).unknownRefusals == [])
        #expect(try SeccompFilter(SeccompProfile.default.auditingRefusals).unknownRefusals == [])
    }

    @Test("the default profile refusing truncation compiles, to a longer program")
    func truncationProfile() throws {
        let refusing = try SeccompFilter(try #require(SeccompProfile.default.refusingTruncation())).program
        #expect(refusing.count > (try SeccompFilter(.default).program.count))
    }

    @Test("compiling is deterministic")
    func deterministic() throws {
        #expect(try SeccompFilter(.default).program == SeccompFilter(.default).program)
    }

    @Test("unknown syscall names are skipped")
    func unknownSyscall() throws {
        let profile = SeccompProfile(defaultAction: .allow, rules: [
            .init(["not_a_syscall"], .errno(1)),
            .init(["mount"], .errno(1)),
        ])
        let filter = try SeccompFilter(profile)
        #expect(filter.program.count % 8 == 0)
        let onlyMount = try SeccompFilter(SeccompProfile(defaultAction: .allow, rules: [.init(["mount"], .errno(1))]))
        #expect(filter.program == onlyMount.program)
    }

    @Test("a profile of only unknown syscalls is the bare default")
    func onlyUnknown() throws {
        let empty = try SeccompFilter(SeccompProfile(defaultAction: .allow, rules: []))
        let unknown = try SeccompFilter(SeccompProfile(defaultAction: .allow, rules: [.init(["not_a_syscall"], .killProcess)]))
        #expect(!empty.program.isEmpty)
        #expect(unknown.program == empty.program)
    }

    @Test("rules differ from the default program")
    func rulesChangeProgram() throws {
        let empty = try SeccompFilter(SeccompProfile(defaultAction: .allow, rules: []))
        let one = try SeccompFilter(SeccompProfile(defaultAction: .allow, rules: [.init(["ptrace"], .errno(1))]))
        #expect(one.program.count > empty.program.count)
    }

    @Test("a Docker-style profile with conditions and extra architectures compiles")
    func dockerStyle() throws {
        // The fuzzer's seed profile: Docker's layout, with argument conditions, archMap and capability rules.
        let corpus = String(#filePath.dropLast("CorralTests/SeccompFilterTests.swift".count)) + "CorralFuzz/Corpus/seccomp/docker-style"
        let profile = try SeccompProfile(contentsOf: corpus)
        let filter = try SeccompFilter(profile)
        #expect(filter.program.count % 8 == 0)
        let native = try SeccompFilter(SeccompProfile(defaultAction: profile.defaultAction, rules: profile.rules))
        // Covering the x86 and x32 ABIs adds their own sections.
        #expect(filter.program.count > native.program.count)
    }

    @Test("a rule with the default action is not an error")
    func ruleMatchingDefault() throws {
        let filter = try SeccompFilter(SeccompProfile(defaultAction: .errno(1), rules: [.init(["read"], .errno(1))]))
        let bare = try SeccompFilter(SeccompProfile(defaultAction: .errno(1), rules: []))
        #expect(filter.program == bare.program)
    }
}
