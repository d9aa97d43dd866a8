internal import CSystemdShim
internal import Glibc

/// A process's cgroup v2 directory, opened once so its files are read without path lookups.
struct Cgroup: Sendable {
    /// The path below /sys/fs/cgroup, e.g. "/corral.slice/corral-1a2b3c4d.slice/corral-time-1a2b3c4d.scope".
    let path: String
    let directory: Int32

    static let root = CgroupFiles.root

    /// Whether /sys/fs/cgroup is a cgroup v2 hierarchy (statfs magic CGROUP2_SUPER_MAGIC), as Corral requires.
    static var isUnifiedHierarchy: Bool { cs_is_cgroup2(root) == 1 }

    /// The cgroup that process `pid` is in (the "0::" line of /proc/PID/cgroup), opened.
    init(pid: Int32) throws(CorralError) {
        guard let path = CgroupFiles.membership(of: String(pid)) else {
            let error = errno
            let file = "/proc/\(pid)/cgroup"
            if error == EMFILE || error == ENFILE { throw Self.outOfDescriptors(file, errno: error) }
            throw CorralError(.unsupportedHost, "cannot find the cgroup v2 membership of process \(pid) in \(file)",
                              stage: "read(\(file))")
        }
        try self.init(path: path)
    }

    /// Opens the cgroup at `path` below /sys/fs/cgroup.
    init(path: String) throws(CorralError) {
        let full = Self.root + path
        let fd = cs_open_directory(full)
        guard fd >= 0 else {
            let error = -fd
            if error == EMFILE || error == ENFILE { throw Self.outOfDescriptors(full, errno: error) }
            throw CorralError(.system, "cannot open cgroup \(full): \(errnoText(error))", stage: "open(\(full))", errno: error)
        }
        self.path = path
        self.directory = fd
    }

    /// The error for a process out of descriptors: each running server holds about seven (pidfd, two cgroups, two
    /// event files, its stdio pipes), and systemd's default soft limit is 1024.
    private static func outOfDescriptors(_ file: String, errno error: Int32) -> CorralError {
        CorralError(.system, "cannot open \(file): \(errnoText(error)). Each running server holds about seven descriptors: "
                    + "raise the soft RLIMIT_NOFILE of the gateway (LimitNOFILE= in its unit, or setrlimit) or run fewer servers per process",
                    stage: "open(\(file))", errno: error)
    }

    /// The last component of the path: the unit for a scope's cgroup.
    var name: Substring { path.split(separator: "/").last ?? "" }

    /// The path of the parent cgroup (a scope's slice).
    var parentPath: String { String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }

    func close() { _ = Glibc.close(directory) }

    /// A file's contents, or nil if it cannot be read (the cgroup may be gone).
    func read(_ file: String) -> String? { FileText.read(file, in: directory) }

    /// A single-number file; "max" is UInt64.max.
    func number(_ file: String) -> UInt64? {
        guard let text = read(file)?.trimmingWhitespace() else { return nil }
        return text == "max" ? .max : UInt64(text)
    }

    /// One key of a flat keyed file such as memory.events; nil when the file or the key cannot be read.
    func counter(_ file: String, _ key: String) -> UInt64? { read(file).flatMap { CgroupFiles.keyed($0)[key] } }

    /// Controllers enabled for this cgroup (cgroup.controllers).
    var controllers: [String] { (read("cgroup.controllers") ?? "").split(whereSeparator: \.isWhitespace).map(String.init) }

    /// SIGKILLs every process in the cgroup and below at once (cgroup.kill, Linux 5.14+).
    func kill() -> Bool { write("cgroup.kill", "1") }

    /// Writes `value` to a file of the cgroup.
    func write(_ file: String, _ value: String) -> Bool {
        let fd = openat(directory, file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { _ = Glibc.close(fd) }
        return value.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count - 1) } == value.utf8.count
    }

    /// Opens a file for reading and for poll's EPOLLPRI notifications (memory.events, pids.events).
    func openForEvents(_ file: String) -> Int32? {
        let fd = openat(directory, file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        return fd >= 0 ? fd : nil
    }
}
