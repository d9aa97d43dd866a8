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
    ]

    /// Syscalls that answer ENOSYS: libc and runtimes fall back from these only on ENOSYS (glibc from clone3 to clone;
    /// libuv from io_uring to epoll), and io_uring operations would bypass per-syscall filtering.
    public static let unimplementedSyscalls = ["clone3", "io_uring_setup", "io_uring_enter", "io_uring_register"]

    /// Corral's default: everything allowed except `deniedSyscalls` (EPERM) and `unimplementedSyscalls` (ENOSYS);
    /// foreign syscall ABIs (x32, ia32) kill the process. Real Python and Node MCP servers run under it unchanged.
    public static let `default` = SeccompProfile(
        defaultAction: .allow,
        rules: [
            Rule(deniedSyscalls, .errno(1)),  // EPERM
            Rule(unimplementedSyscalls, .errno(38)),  // ENOSYS
        ]
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
