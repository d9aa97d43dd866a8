internal import CSystemdShim
internal import Glibc
import Synchronization

/// What this host lets Corral isolate a server with, probed once per process: a short-lived child tries the
/// namespace steps a server's child takes (its user namespace when rootless, the cgroup and mount namespaces, the
/// read-only mounts), and /proc/self/mountinfo tells whether cgroup2 has nsdelegate. `corral doctor` shows it.
public struct HostIsolation: Sendable {
    /// Why the cgroup and mount namespaces cannot be made here, naming the step, its errno and the sysctl to look
    /// at; nil when they can.
    public let namespacesRefused: String?
    /// Whether cgroup2 is mounted with nsdelegate: the kernel then refuses moves out of a cgroup namespace and
    /// writes to its root's own limits, whatever a server mounts.
    public let nsdelegate: Bool
    /// The cgroup2 mount's super options as mountinfo shows them ("rw,nsdelegate,memory_recursiveprot").
    public let cgroupMountOptions: String
    /// Whether a server needs a user namespace of its own for the namespaces (everyone but root).
    public let needsUserNamespace: Bool
    /// The kernel's Landlock ABI version (0: no Landlock), which says what `--read`, `--write`, `--hide`,
    /// `--connect` and `--bind` can enforce here.
    public let landlockABI: Int

    /// This host, probed on first use.
    public static let current = HostIsolation()

    private init() {
        needsUserNamespace = getuid() != 0
        landlockABI = max(0, Int(cs_landlock_abi()))
        let options = Self.cgroupSuperOptions() ?? []
        nsdelegate = options.contains("nsdelegate")
        cgroupMountOptions = options.joined(separator: ",")
        var flags = UInt32(CS_CONTAIN_NAMESPACES.rawValue)
        if needsUserNamespace { flags |= UInt32(CS_CONTAIN_USER_NAMESPACE.rawValue) }
        let maps = CStringArray(["\(getuid()) \(getuid()) 1", "\(getgid()) \(getgid()) 1"])
        var containment = cs_containment()
        containment.flags = flags
        containment.uid_map = UnsafePointer(maps[0])
        containment.gid_map = UnsafePointer(maps[1])
        var failure = cs_spawn_failure()
        let status = withExtendedLifetime(maps) { cs_contain_probe(&containment, &failure) }
        if status >= 0 {
            namespacesRefused = nil
        } else {
            let step = Spawner.stageName(failure.stage, detail: failure.detail, isolation: nil)
            let knobs = Self.userNamespaceKnobs()
            namespacesRefused = (needsUserNamespace ? "user namespaces are not available here" : "namespaces cannot be made here")
                + " (\(step): \(errnoText(-status))" + (knobs.isEmpty ? "" : "; \(knobs.joined(separator: ", "))") + ")"
        }
    }

    /// What a server started now would lack, one sentence each (empty: the whole containment holds). `seccomp`
    /// is the server's profile: without nsdelegate only a server allowed to mount gains anything.
    func weaknesses(seccomp: SeccompProfile?) -> [String] {
        var sentences: [String] = []
        if let namespacesRefused {
            sentences.append("\(namespacesRefused): servers run without a cgroup namespace or private mounts, so a server can move its processes out of its scope, raise its own limits and ask the manager for units; only the limits, no_new_privs and seccomp hold")
        } else if !nsdelegate && seccomp != .default {
            sentences.append("cgroup2 at \(Cgroup.root) is mounted without nsdelegate, so the kernel does not guard the server's cgroup namespace: with a seccomp profile other than the default, a server that may mount can mount a writable cgroupfs and raise its own limits (remount with nsdelegate, as systemd does by default)")
        }
        return sentences
    }

    /// Says each of `sentences` through `handler`, once per process.
    static func warnOnce(_ sentences: [String], _ handler: @Sendable (String) -> Void) {
        for sentence in sentences where said.withLock({ $0.insert(sentence).inserted }) { handler(sentence) }
    }

    private static let said = Mutex<Set<String>>([])

    /// The super options of the cgroup2 mount on Cgroup.root, from /proc/self/mountinfo.
    static func cgroupSuperOptions() -> [String]? {
        for line in (FileText.read("/proc/self/mountinfo") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == Cgroup.root, let dash = fields.firstIndex(of: "-"),
                  dash + 3 < fields.count, fields[dash + 1] == "cgroup2" else { continue }
            return fields[dash + 3].split(separator: ",").map(String.init)
        }
        return nil
    }

    /// The sysctls that forbid unprivileged user namespaces, where they do ("user.max_user_namespaces = 0").
    static func userNamespaceKnobs() -> [String] {
        [("user.max_user_namespaces", "0"), ("kernel.unprivileged_userns_clone", "0"),
         ("kernel.apparmor_restrict_unprivileged_userns", "1")].compactMap { name, forbidding in
            let path = "/proc/sys/" + name.split(separator: ".").joined(separator: "/")
            return FileText.trimmed(path) == forbidding ? "\(name) = \(forbidding)" : nil
        }
    }
}
