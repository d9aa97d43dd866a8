internal import CSystemdShim
internal import Glibc

/// One server's isolation, worked out in the parent before fork (user and group lookups, the sockets to hide, the
/// capabilities to keep) so that the held child makes raw syscalls only.
struct Isolation: Sendable {
    var flags: UInt32 = 0
    var uidMap: String?
    var gidMap: String?
    /// The managers' sockets to cover with /dev/null.
    var hidden: [String] = []
    var uid: uid_t = getuid()
    var gid: gid_t = getgid()
    var groups: [gid_t] = []
    var capabilities: UInt64 = 0
    var lastCapability: Int32 = 40
    /// `--hide` paths, resolved, and whether each is a directory.
    var covers: [(path: String, directory: Bool)] = []
    /// The Landlock ruleset (with CS_CONTAIN_LANDLOCK): the rights it handles and its rules.
    var landlockFileSystem: UInt64 = 0
    var landlockNetwork: UInt64 = 0
    var pathRules: [PathRule] = []
    var portRules: [(port: UInt64, access: UInt64)] = []
    /// Whether the seccomp filter refuses truncation, which this kernel's Landlock cannot (before ABI 3).
    var refusesTruncation = false

    /// The isolation of `configuration`'s server, whose environment is `environment` and resolved executable
    /// `executable`, on `host`.
    init(_ configuration: ServerConfiguration, executable: String, environment: [String],
         host: HostIsolation) throws(CorralError) {
        let root = getuid() == 0
        let kept = try configuration.capabilities.map { name throws(CorralError) in try Capability(name, field: "--capability") }
        if !root {
            if !kept.isEmpty {
                throw CorralError(.invalidConfiguration, "--capability needs root: a server started by UID \(getuid()) has no capabilities to keep")
            }
            if let user = configuration.user, try Self.user(user).uid != getuid() {
                throw CorralError(.invalidConfiguration, "--uid '\(user)' needs root: only root may start a server as another user")
            }
            if let group = configuration.group, try Self.group(group) != getgid() {
                throw CorralError(.invalidConfiguration, "--gid '\(group)' needs root: only root may start a server in another group")
            }
        }
        if root {
            flags |= UInt32(CS_CONTAIN_DROP_CAPABILITIES.rawValue)
            capabilities = Capability.mask(kept)
            lastCapability = Int32(FileText.trimmed("/proc/sys/kernel/cap_last_cap") ?? "") ?? 40
            if configuration.user != nil || configuration.group != nil {
                flags |= UInt32(CS_CONTAIN_SET_IDS.rawValue)
                let account = try configuration.user.map { name throws(CorralError) in try Self.user(name) }
                uid = account?.uid ?? 0
                if let group = configuration.group {
                    gid = try Self.group(group)
                } else if let primary = account?.gid {
                    gid = primary
                } else {
                    throw CorralError(.invalidConfiguration, "--uid '\(configuration.user ?? "")' has no passwd entry, so it has no primary group: give --gid too")
                }
                groups = account?.name.map { Self.groupList($0, gid) } ?? [gid]
            }
        }
        guard host.namespacesRefused == nil else {
            if configuration.containment == .strict { throw Self.refusal(host.namespacesRefused!) }
            try sandbox(configuration, executable: executable, environment: environment, namespaces: false,
                        abi: host.landlockABI)
            return
        }
        if configuration.containment == .strict && !host.nsdelegate && configuration.seccomp != .default {
            throw Self.refusal("cgroup2 at \(Cgroup.root) is mounted without nsdelegate and the seccomp profile is not the default")
        }
        flags |= UInt32(CS_CONTAIN_NAMESPACES.rawValue)
        if host.needsUserNamespace {
            flags |= UInt32(CS_CONTAIN_USER_NAMESPACE.rawValue)
            uidMap = "\(getuid()) \(getuid()) 1"
            gidMap = "\(getgid()) \(getgid()) 1"
        }
        if !configuration.allowsBuses {
            if root { flags |= UInt32(CS_CONTAIN_HIDE_RUN_USER.rawValue) }
            hidden = Self.busSockets(root: root, environment: environment)
        }
        try sandbox(configuration, executable: executable, environment: environment, namespaces: true,
                    abi: host.landlockABI)
    }

    private static func refusal(_ reason: String) -> CorralError {
        CorralError(.unsupportedHost, "the server's whole containment is not available (--containment strict): \(reason)", stage: "unshare")
    }

    /// The managers' sockets a server could reach: the system bus and the system manager's private socket, and
    /// (rootless; root hides all of /run/user) the user bus and the user manager's private socket, found by UID
    /// as well as through XDG_RUNTIME_DIR and the D-Bus address variables, which MCP clients may not pass.
    static func busSockets(root: Bool, environment: [String]) -> [String] {
        var paths = ["/run/dbus/system_bus_socket", "/run/systemd/private"]
        var runtimeDirectories = root ? [] : ["/run/user/\(getuid())"]
        let variables = environment + [getenv("XDG_RUNTIME_DIR").map { "XDG_RUNTIME_DIR=" + String(cString: $0) }].compactMap { $0 }
        for entry in variables {
            if entry.hasPrefix("XDG_RUNTIME_DIR="), !(root && entry.hasPrefix("XDG_RUNTIME_DIR=/run/user/")) {
                runtimeDirectories.append(String(entry.dropFirst("XDG_RUNTIME_DIR=".count)))
            }
            if entry.hasPrefix("DBUS_SESSION_BUS_ADDRESS=") || entry.hasPrefix("DBUS_SYSTEM_BUS_ADDRESS=") {
                for address in entry.split(separator: "=", maxSplits: 1)[1].split(separator: ";") {
                    for part in address.split(separator: ",") where part.hasPrefix("unix:path=") || part.hasPrefix("path=") {
                        paths.append(String(part.split(separator: "=", maxSplits: 1)[1]))
                    }
                }
            }
        }
        for directory in runtimeDirectories { paths += [directory + "/bus", directory + "/systemd/private"] }
        var seen = Set<String>()
        return paths.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// A user by name or number: its UID, and its name and primary group when the passwd database has it.
    static func user(_ text: String) throws(CorralError) -> (uid: uid_t, name: String?, gid: gid_t?) {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        if let number = UInt32(text) {
            getpwuid_r(number, &entry, &buffer, buffer.count, &result)
            return (number, result.map { String(cString: $0.pointee.pw_name) }, result?.pointee.pw_gid)
        }
        getpwnam_r(text, &entry, &buffer, buffer.count, &result)
        guard let found = result else { throw .invalid("--uid", text, "no such user") }
        return (found.pointee.pw_uid, text, found.pointee.pw_gid)
    }

    /// A group by name or number.
    static func group(_ text: String) throws(CorralError) -> gid_t {
        if let number = UInt32(text) { return number }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        getgrnam_r(text, &entry, &buffer, buffer.count, &result)
        guard let found = result else { throw .invalid("--gid", text, "no such group") }
        return found.pointee.gr_gid
    }

    /// The supplementary groups login gives `user` with primary group `gid` (getgrouplist).
    static func groupList(_ user: String, _ gid: gid_t) -> [gid_t] {
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(user, gid, &groups, &count) >= 0 else { return [gid] }
        }
        return Array(groups.prefix(Int(count)))
    }
}
