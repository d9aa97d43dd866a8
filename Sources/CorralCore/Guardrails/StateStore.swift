internal import Glibc

/// Where per-server guardrail state lives: /run/corral for the system manager, $XDG_RUNTIME_DIR/corral (or
/// /run/user/UID/corral) for a user's. One small file per server (mode 0600: it holds the server's last stderr
/// lines), guarded by flock(2), so that concurrent invocations take their decisions one after another. The lock is
/// held only for a read, a decision and a write, never across an await. Runtime directories: state does not
/// outlive a reboot.
public struct StateStore: Sendable {
    public let directory: String
    /// Told when a corrupt or truncated record was reset, or the directory repaired.
    let warn: @Sendable (String) -> Void

    public init(directory: String, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.directory = directory
        self.warn = warn
    }

    /// The store for a manager: system state for root, the user's own otherwise.
    public static func forManager(_ manager: ServiceManager, warn: @escaping @Sendable (String) -> Void = { _ in }) -> StateStore {
        if manager == .system { return StateStore(directory: "/run/corral", warn: warn) }
        let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) }.flatMap { $0.hasPrefix("/") ? $0 : nil }
        return StateStore(directory: (runtime ?? "/run/user/\(getuid())") + "/corral", warn: warn)
    }

    package func path(_ name: ServerName) -> String { directory + "/" + name.escaped + ".state" }

    /// Locks the server's record (creating it), for a decision that must not race another invocation's. Release
    /// it before any await: another task of this process may be waiting for it on a thread of the same pool.
    public func lock(_ name: ServerName) throws(CorralError) -> LockedServerState {
        try prepare(directory)
        let file = path(name)
        var fd: Int32
        while true {
            fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw failure("open \(file)", Glibc.errno) }
            while flock(fd, LOCK_EX) < 0 {
                guard Glibc.errno == EINTR else {
                    let error = Glibc.errno
                    close(fd)
                    throw failure("lock \(file)", error)
                }
            }
            var info = stat()
            guard fstat(fd, &info) == 0 else { break }
            let foreign = info.st_uid != geteuid()
            if foreign {
                // Planted by another user while the directory was writable to others: not ours to believe.
                warn("the guardrail state of server '\(name)' in \(file) belonged to UID \(info.st_uid) and has been reset")
                unlink(file)
            } else if info.st_mode & 0o777 != 0o600 {
                _ = fchmod(fd, 0o600)  // written by an older corral, readable by everyone
            }
            // The holder before us may have removed the record (a start that failed before its server ran, a
            // reset): a lock on the unlinked file guards nothing, so open the path again.
            guard foreign || info.st_nlink == 0 else { break }
            close(fd)
        }
        // At most 64 KiB: a record is a few hundred bytes, anything bigger is corrupt anyway.
        let text = FileText.read(descriptor: fd, atMost: 65536) ?? ""
        var state = ServerState()
        if !text.isEmpty {
            if let stored = ServerState(text: text) {
                state = stored
            } else {
                warn("the guardrail state of server '\(name)' in \(file) was unreadable and has been reset")
            }
        }
        return LockedServerState(fd: fd, path: file, isNew: text.isEmpty, state: state)
    }

    /// Forgets a server's failures and closes its breaker (`corral reset`). Returns whether there was a record.
    @discardableResult
    public func reset(_ name: ServerName) throws(CorralError) -> Bool {
        guard unlink(path(name)) == 0 else {
            if Glibc.errno == ENOENT { return false }
            throw failure("remove \(path(name))", Glibc.errno)
        }
        return true
    }

    /// The servers that have a record.
    public func names() -> [ServerName] {
        var names: [ServerName] = []
        for file in DirectoryEntries.names(atPath: directory) ?? [] {
            guard file.hasSuffix(".state"),
                  let raw = ServerName.unescape(file.dropLast(".state".count)[...]),
                  let name = try? ServerName(raw) else { continue }
            names.append(name)
        }
        return names.sorted { $0.rawValue < $1.rawValue }
    }

    /// Creates a state directory if it is missing and checks it before anything in it is trusted: it must be a
    /// directory (not a symlink) of this user. One that others may write is repaired (its mode reset, with a
    /// warning); one that another user owns is refused.
    func prepare(_ path: String) throws(CorralError) {
        let mode: mode_t = geteuid() == 0 ? 0o755 : 0o700
        guard mkdir(path, mode) == 0 || Glibc.errno == EEXIST else { throw failure("create \(path)", Glibc.errno) }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw failure("inspect \(path)", Glibc.errno) }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid() else {
            let what = info.st_mode & S_IFMT == S_IFDIR ? "is owned by UID \(info.st_uid), not by UID \(geteuid())"
                : "is not a directory"
            throw CorralError(.system, "refusing to use \(path) for guardrail state: it \(what), so another user could forge or read the records in it. Remove it (corral creates it again) or give it to UID \(geteuid()) with mode \(String(mode, radix: 8)).", stage: "state")
        }
        if info.st_mode & 0o022 != 0 {
            guard chmod(path, mode) == 0 else { throw failure("repair the mode of \(path)", Glibc.errno) }
            warn("the guardrail state directory \(path) was writable by others (mode \(String(info.st_mode & 0o7777, radix: 8))); its mode is now \(String(mode, radix: 8)), and records in it that others wrote are ignored")
        }
    }

    private func failure(_ what: String, _ error: Int32) -> CorralError {
        CorralError(.system, "cannot \(what) for guardrail state: \(errnoText(error))", stage: "state", errno: error)
    }
}

/// One server's record, locked until `release()` (or until this value is released).
public final class LockedServerState {
    public var state: ServerState
    private var fd: Int32
    private let path: String
    /// Whether the record was created by this lock (there was none, or an empty one).
    package let isNew: Bool

    init(fd: Int32, path: String, isNew: Bool, state: ServerState) {
        self.fd = fd
        self.path = path
        self.isNew = isNew
        self.state = state
    }

    deinit { release() }

    /// Writes the record back (in place: the lock belongs to this file).
    public func save() {
        guard fd >= 0 else { return }
        let bytes = Array(state.text.utf8)
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        if written == bytes.count { _ = ftruncate(fd, off_t(bytes.count)) }
    }

    /// Removes the record (for a start that failed before its server ran, of a server that had none). Still
    /// locked, so a concurrent start either saw nothing yet or retries on a new file.
    func remove() {
        if fd >= 0 { unlink(path) }
    }

    /// Unlocks the record.
    public func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
