/// A Linux capability by name, as `--capability CAP_NET_BIND_SERVICE` and systemd's AmbientCapabilities= spell it.
public struct Capability: Sendable, Equatable, Hashable {
    /// Its number (linux/capability.h).
    public let number: Int
    public var name: String { Self.names[number] }

    /// The names in number order (capability.h as of Linux 5.9, CAP_CHECKPOINT_RESTORE = 40).
    static let names = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// Parses a name, with or without the CAP_ prefix, in any case ("CAP_NET_BIND_SERVICE", "net_bind_service").
    public init(_ text: String, field: String = "capability") throws(CorralError) {
        let upper = text.uppercased()
        let name = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
        guard let number = Self.names.firstIndex(of: name) else {
            throw .invalid(field, text, "expected a capability name such as CAP_NET_BIND_SERVICE (see capabilities(7))")
        }
        self.number = number
    }

    /// The bit mask of `capabilities` (bit N is capability N), as capset and the spawn shim take it.
    public static func mask(_ capabilities: [Capability]) -> UInt64 {
        capabilities.reduce(0) { $0 | 1 << UInt64($1.number) }
    }
}
