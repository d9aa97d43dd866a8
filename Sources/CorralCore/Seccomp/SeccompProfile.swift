/// A seccomp policy: a default action and rules per syscall. It is compiled to BPF before the scope is created and
/// applied in the server, after no_new_privs, right before exec.
public struct SeccompProfile: Sendable, Equatable {
    /// What the kernel does when a rule matches.
    public enum Action: Sendable, Equatable {
        case allow
        /// The call fails with this errno and does nothing.
        case errno(Int32)
        case killProcess
        case killThread
        case trap
        /// Allowed, and logged by the kernel's audit subsystem.
        case log
    }

    /// A comparison of one syscall argument (libseccomp's `scmp_arg_cmp`).
    public struct Condition: Sendable, Equatable {
        public enum Operator: Int32, Sendable, Equatable {
            case notEqual = 1, lessThan, lessOrEqual, equal, greaterOrEqual, greaterThan, maskedEqual
        }
        public var index: UInt32
        public var op: Operator
        public var value: UInt64
        public var valueTwo: UInt64

        public init(index: UInt32, op: Operator, value: UInt64, valueTwo: UInt64 = 0) {
            self.index = index
            self.op = op
            self.value = value
            self.valueTwo = valueTwo
        }
    }

    /// An action for some syscalls, optionally only when all conditions hold.
    public struct Rule: Sendable, Equatable {
        public var syscalls: [String]
        public var action: Action
        public var conditions: [Condition]

        public init(_ syscalls: [String], _ action: Action, conditions: [Condition] = []) {
            self.syscalls = syscalls
            self.action = action
            self.conditions = conditions
        }
    }

    public var defaultAction: Action
    public var rules: [Rule]
    /// Architectures besides the native one whose syscalls the rules also cover (libseccomp names such as
    /// "SCMP_ARCH_X86"). Syscalls through any other ABI kill the process.
    public var extraArchitectures: [String]

    public init(defaultAction: Action, rules: [Rule], extraArchitectures: [String] = []) {
        self.defaultAction = defaultAction
        self.rules = rules
        self.extraArchitectures = extraArchitectures
    }

    /// Syscalls an MCP server has no business making, refused with EPERM by the default profile.
    public static let deniedSyscalls = [
        // kernel modules and replacing the kernel
        "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
        // the mount family
        "mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
        "fspick", "mount_setattr",
        // inspecting or writing other processes, the kernel's BPF and perf interfaces
        "ptrace", "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open",
        // the kernel keyrings
        "add_key", "request_key", "keyctl",
        // the machine itself
        "reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime", "syslog",
        "iopl", "ioperm", "quotactl", "vhangup", "lookup_dcookie",
        // escape hatches
        "userfaultfd", "open_by_handle_at", "uselib",
        // joining other namespaces, and what Docker refuses without CAP_SYS_ADMIN or CAP_SYS_PTRACE
        "setns", "fanotify_init", "kcmp", "pidfd_getfd", "process_madvise", "sethostname", "setdomainname",
    ]

    /// The namespace flags of clone(2) and unshare(2): Docker's mask 0x7E020000 (NEWNS, NEWCGROUP, NEWUTS, NEWIPC,
    /// NEWUSER, NEWPID, NEWNET), one bit each, since rules on one syscall are ORed and each takes one comparison
    /// per argument. unshare also gets CLONE_NEWTIME (0x80); clone3 answers ENOSYS, so glibc falls back to clone
    /// and the flags are visible here.
    public static let namespaceFlags: [UInt64] = [0x20000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000,
                                                  0x2000_0000, 0x4000_0000]

    /// Refuses (EPERM) clone and unshare with a namespace flag; unshare(CLONE_FILES) and the like stay allowed.
    public static var namespaceRules: [Rule] {
        namespaceFlags.map { bit in Rule(["clone"], .errno(1), conditions: [Condition(index: 0, op: .maskedEqual, value: bit, valueTwo: bit)]) }
            + (namespaceFlags + [0x80]).map { bit in
                Rule(["unshare"], .errno(1), conditions: [Condition(index: 0, op: .maskedEqual, value: bit, valueTwo: bit)])
            }
    }

    /// Refuses (EPERM) every personality(2) but Docker's: 0 (PER_LINUX), 8 (PER_LINUX32), 0x20000 (UNAME26),
    /// 0x20008 (both) and 0xffffffff (the query).
    /// libseccomp compares each argument once per rule, so "none of five values" is an exact cover of masked
    /// comparisons on the low word (the kernel truncates the argument to 32 bits), T being bit 31: a forbidden bit
    /// k set with T clear (29 rules), or T set with some bit j clear (31 rules).
    public static var personalityRules: [Rule] {
        let top: UInt64 = 1 << 31
        let forbidden = (0..<31).filter { $0 != 3 && $0 != 17 }.map { k -> Rule in
            let bit: UInt64 = 1 << UInt64(k)
            return Rule(["personality"], .errno(1), conditions: [Condition(index: 0, op: .maskedEqual, value: bit | top, valueTwo: bit)])
        }
        let notAllOnes = (0..<31).map { j -> Rule in
            Rule(["personality"], .errno(1), conditions: [Condition(index: 0, op: .maskedEqual, value: top | 1 << UInt64(j), valueTwo: top)])
        }
        return forbidden + notAllOnes
    }

    /// Syscalls that answer ENOSYS: libc and runtimes fall back from these only on ENOSYS (glibc from clone3 to clone;
    /// libuv from io_uring to epoll), and io_uring operations would bypass per-syscall filtering.
    public static let unimplementedSyscalls = ["clone3", "io_uring_setup", "io_uring_enter", "io_uring_register"]

    /// Corral's default, at Docker's standard for what it refuses: everything allowed except `deniedSyscalls`
    /// (EPERM), namespace creation (`namespaceRules`), personalities other than Docker's (`personalityRules`), and
    /// `unimplementedSyscalls` (ENOSYS); foreign syscall ABIs (x32, ia32) kill the process. Real Python and Node MCP
    /// servers run under it unchanged. adjtimex stays allowed as in Docker: only reading the clock is left without
    /// CAP_SYS_TIME, which no server keeps.
    public static let `default` = SeccompProfile(
        defaultAction: .allow,
        rules: [
            Rule(deniedSyscalls, .errno(1)),  // EPERM
            Rule(unimplementedSyscalls, .errno(38)),  // ENOSYS
        ] + namespaceRules + personalityRules
    )

    /// This profile with every refusal turned into `.log`: what it would refuse is allowed, and the kernel's audit
    /// records it (type=1326 SECCOMP, with syscall=N), to find the call a server that fails under it needs. ENOSYS
    /// answers stay: they make runtimes take their fallback paths, the ones the server takes under the profile.
    /// Foreign syscall ABIs still kill.
    public var auditingRefusals: SeccompProfile {
        func audited(_ action: Action) -> Action {
            switch action {
            case .allow, .log, .errno(38): action
            case .errno, .killProcess, .killThread, .trap: .log
            }
        }
        var profile = self
        profile.rules = rules.map { rule in
            var rule = rule
            rule.action = audited(rule.action)
            return rule
        }
        profile.defaultAction = audited(defaultAction)
        return profile
    }
}
