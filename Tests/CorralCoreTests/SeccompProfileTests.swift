import CorralCore
import Testing

@Suite("SeccompProfile")
struct SeccompProfileTests {
    typealias Rule = SeccompProfile.Rule
    typealias Condition = SeccompProfile.Condition

    /// A small profile in Docker's format, with the features Corral reads and those it drops.
    static let dockerStyle = """
    {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [
        { "names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW" },
        { "names": ["personality"], "action": "SCMP_ACT_ALLOW",
          "args": [ { "index": 0, "value": 8, "op": "SCMP_CMP_EQ" } ] },
        { "names": ["clone"], "action": "SCMP_ACT_ALLOW",
          "args": [ { "index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" } ],
          "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
        { "names": ["mount", "umount2"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
        { "names": ["arm_fadvise64_64"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["arm64"] } },
        { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64", "x32"] } },
        { "names": ["modify_ldt"], "action": "SCMP_ACT_ALLOW", "excludes": { "arches": ["amd64"] } },
        { "name": "socket", "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
          "args": [ { "index": 0, "value": 40, "op": "SCMP_CMP_EQ" },
                    { "index": 2, "value": 3, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ" } ] },
        { "names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS" },
        { "names": ["tkill"], "action": "SCMP_ACT_KILL" },
        { "names": ["tgkill"], "action": "SCMP_ACT_KILL_THREAD" },
        { "names": ["getpid"], "action": "SCMP_ACT_TRAP" },
        { "names": ["getppid"], "action": "SCMP_ACT_LOG" },
        { "names": ["uname"], "action": "SCMP_ACT_ERRNO" },
        { "names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [
          { "index": 5, "value": 1, "op": "SCMP_CMP_NE" }, { "index": 1, "value": 2, "op": "SCMP_CMP_LT" },
          { "index": 2, "value": 3, "op": "SCMP_CMP_LE" }, { "index": 3, "value": 4, "op": "SCMP_CMP_GE" },
          { "index": 4, "value": 5, "op": "SCMP_CMP_GT" } ] }
      ]
    }
    """

    @Test("a Docker-style profile becomes exact rules")
    func dockerStyleProfile() throws {
        let profile = try SeccompProfile(ociJSON: Self.dockerStyle)
        #expect(profile.defaultAction == .errno(1))
        #expect(profile.extraArchitectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        let expected: [Rule] = [
            Rule(["read", "write", "exit_group"], .allow),
            Rule(["personality"], .allow, conditions: [Condition(index: 0, op: .equal, value: 8)]),
            Rule(["clone"], .allow, conditions: [Condition(index: 0, op: .maskedEqual, value: 2_114_060_288, valueTwo: 0)]),
            Rule(["arch_prctl"], .allow),
            Rule(["socket"], .errno(97), conditions: [
                Condition(index: 0, op: .equal, value: 40),
                Condition(index: 2, op: .maskedEqual, value: 3, valueTwo: 1),
            ]),
            Rule(["kill"], .killProcess),
            Rule(["tkill"], .killThread),
            Rule(["tgkill"], .killThread),
            Rule(["getpid"], .trap),
            Rule(["getppid"], .log),
            Rule(["uname"], .errno(1)),
            Rule(["mmap"], .allow, conditions: [
                Condition(index: 5, op: .notEqual, value: 1),
                Condition(index: 1, op: .lessThan, value: 2),
                Condition(index: 2, op: .lessOrEqual, value: 3),
                Condition(index: 3, op: .greaterOrEqual, value: 4),
                Condition(index: 4, op: .greaterThan, value: 5),
            ]),
        ]
        #expect(profile.rules.count == expected.count)
        for (got, want) in zip(profile.rules, expected) {
            #expect(got == want)
        }
        #expect(profile == SeccompProfile(defaultAction: .errno(1), rules: expected,
                                          extraArchitectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]))
    }

    @Test("the default errno is 1 and defaultErrnoRet changes it")
    func defaultErrno() throws {
        let plain = try SeccompProfile(ociJSON: #"{"defaultAction":"SCMP_ACT_ERRNO"}"#)
        #expect(plain.defaultAction == .errno(1))
        #expect(plain.rules.isEmpty)
        #expect(plain.extraArchitectures.isEmpty)
        let enosys = try SeccompProfile(ociJSON: #"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38}"#)
        #expect(enosys.defaultAction == .errno(38))
        let allow = try SeccompProfile(ociJSON: #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}"#)
        #expect(allow.defaultAction == .allow)
    }

    @Test("archMap adds the sub-architectures of x86_64")
    func archMap() throws {
        let profile = try SeccompProfile(ociJSON: """
        {"defaultAction":"SCMP_ACT_ALLOW","archMap":[
          {"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]},
          {"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]}]}
        """)
        #expect(profile.extraArchitectures == ["SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    }

    private func rejection(_ text: String) -> CorralError? {
        do {
            _ = try SeccompProfile(ociJSON: text, source: "profile.json")
            return nil
        } catch {
            return error
        }
    }

    @Test("invalid JSON is refused with its line and column")
    func invalidJSON() throws {
        let error = try #require(rejection("{\n  \"defaultAction\": SCMP_ACT_ALLOW\n}"))
        #expect(error.code == .invalidConfiguration)
        #expect(error.exitCode == 64)
        #expect(error.message.hasPrefix("profile.json is not valid JSON: "))
        #expect(error.message.contains("line 2, column 20"), "\(error.message)")
    }

    @Test("malformed profiles are refused, naming the problem", arguments: [
        (#"[]"#, "expected a JSON object"),
        (#"{}"#, "'defaultAction' is missing"),
        (#"{"defaultAction":1}"#, "'defaultAction' must be a string, not 1"),
        (#"{"defaultAction":"SCMP_ACT_FOO"}"#, "unknown action 'SCMP_ACT_FOO'"),
        (#"{"defaultAction":"SCMP_ACT_TRACE"}"#, "SCMP_ACT_TRACE needs a tracer"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_TRACE"}]}"#,
         "SCMP_ACT_TRACE"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_NOTIFY"}]}"#,
         "SCMP_ACT_NOTIFY needs a tracer"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_FOO"}]}"#,
         "unknown action 'SCMP_ACT_FOO'"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":7,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#,
         "syscalls[0]: an argument index must be 0 to 5"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#,
         "an argument index must be 0 to 5"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":0,"op":"SCMP_CMP_ALMOST"}]}]}"#,
         "unknown argument operator 'SCMP_CMP_ALMOST'"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}]}]}"#,
         "argument value must be a non-negative integer"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_VAX"]}"#, "unknown architecture 'SCMP_ARCH_VAX'"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"action":"SCMP_ACT_ALLOW"}]}"#,
         "syscalls[1] names no syscall"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"}]}"#,
         "syscalls[0] names no syscall"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"]}]}"#, "syscalls[0] has no 'action'"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[1]}"#, "syscalls[0] is not an object"),
    ])
    func rejected(text: String, problem: String) throws {
        let error = try #require(rejection(text))
        #expect(error.code == .invalidConfiguration)
        #expect(error.exitCode == 64)
        #expect(error.message.hasPrefix("profile.json"), "\(error.message)")
        #expect(error.message.contains(problem), "\(error.message)")
    }

    @Test("the default source name is 'seccomp profile'")
    func defaultSource() throws {
        do {
            _ = try SeccompProfile(ociJSON: "{}")
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "seccomp profile: 'defaultAction' is missing")
        }
    }

    // MARK: the default profile

    private func action(of syscall: String, in profile: SeccompProfile) -> SeccompProfile.Action? {
        profile.rules.last(where: { $0.syscalls.contains(syscall) })?.action
    }

    @Test("the default profile allows everything else")
    func defaultProfile() {
        let profile = SeccompProfile.default
        #expect(profile.defaultAction == .allow)
        #expect(profile.extraArchitectures.isEmpty)
        // Only clone, unshare and personality are refused conditionally (by their flags and values).
        #expect(Set(profile.rules.filter { !$0.conditions.isEmpty }.flatMap(\.syscalls)) == ["clone", "unshare", "personality"])
        #expect(action(of: "read", in: profile) == nil)
        #expect(action(of: "execve", in: profile) == nil)
    }

    /// Whether a rule list with masked-equal conditions on argument 0 refuses `value` (rules on one syscall are ORed).
    private func refuses(_ syscall: String, _ value: UInt64) -> Bool {
        SeccompProfile.default.rules.contains { rule in
            rule.syscalls == [syscall] && !rule.conditions.isEmpty && rule.conditions.allSatisfy {
                $0.op == .maskedEqual && value & $0.value == $0.valueTwo
            }
        }
    }

    @Test("the default profile refuses clone and unshare with Docker's namespace mask 0x7E020000, and unshare with CLONE_NEWTIME")
    func namespaceFlags() {
        for bit in 0..<32 {
            let flag: UInt64 = 1 << UInt64(bit)
            #expect(refuses("clone", flag) == (flag & 0x7E02_0000 != 0), "clone \(flag)")
            #expect(refuses("unshare", flag) == (flag & 0x7E02_0080 != 0), "unshare \(flag)")
        }
        #expect(!refuses("clone", 0x01_1200 | 17))  // glibc's fork and thread flags
        #expect(refuses("unshare", 0x1002_0000))    // NEWUSER | NEWNS
    }

    @Test("the default profile allows exactly Docker's personalities", arguments: [
        (UInt64(0), false), (0x8, false), (0x2_0000, false), (0x2_0008, false), (0xffff_ffff, false),
        (0x4_0000, true), (0x0040_0000, true), (0x1, true), (0x8000_0000, true), (0xffff_fffe, true), (0x2_0009, true),
        (0x0800_0000, true), (0x7fff_ffff, true),
    ])
    func personalities(value: UInt64, refused: Bool) {
        #expect(refuses("personality", value) == refused)
    }

    @Test("the default profile refuses dangerous syscalls with EPERM",
          arguments: ["mount", "ptrace", "bpf", "kexec_load", "init_module", "finit_module", "umount2", "keyctl", "reboot",
                     "setns", "fanotify_init", "kcmp", "pidfd_getfd", "process_madvise", "clock_adjtime"])
    func defaultDenied(syscall: String) {
        #expect(action(of: syscall, in: .default) == .errno(1))
    }

    @Test("the default profile answers ENOSYS for clone3 and io_uring",
          arguments: ["clone3", "io_uring_setup", "io_uring_enter", "io_uring_register"])
    func defaultUnimplemented(syscall: String) {
        #expect(action(of: syscall, in: .default) == .errno(38))
    }
}

struct SeccompAuditingTests {
    @Test func auditingTurnsEveryRefusalIntoALogAndKeepsWhatIsAllowedAndTheENOSYSAnswers() {
        let audited = SeccompProfile.default.auditingRefusals
        #expect(audited.defaultAction == .allow)
        #expect(audited.rules.map(\.syscalls) == SeccompProfile.default.rules.map(\.syscalls))
        #expect(audited.rules.map(\.action) == [.log, .errno(38)] + Array(repeating: .log, count: audited.rules.count - 2))
        let strict = SeccompProfile(defaultAction: .errno(1), rules: [.init(["read"], .allow), .init(["mount"], .killProcess),
                                                                      .init(["clone3"], .errno(38)), .init(["bpf"], .trap)])
        #expect(strict.auditingRefusals.defaultAction == .log)
        #expect(strict.auditingRefusals.rules.map(\.action) == [.allow, .log, .errno(38), .log])
    }
}
