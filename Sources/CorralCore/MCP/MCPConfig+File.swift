internal import Glibc

extension MCPConfig {
    /// What `wrapFile` or `unwrapFile` did.
    public struct FileResult: Sendable, Equatable {
        public var changes: [Change]
        /// The new configuration, when it was not written in place (for stdout).
        public var output: String?
        /// Whether the file was replaced.
        public var wrote = false
        /// The backup's path, whether or not it exists.
        public var backup: String
        /// Whether a backup was there when unwrap read the file (and is kept, unless restored from).
        public var foundBackup = false
        /// Whether this call created the backup (wrap), or found and kept an earlier one.
        public var createdBackup = false
        /// Whether the configuration was restored byte for byte from the backup (unwrap); the backup is then removed.
        public var restoredFromBackup = false
    }

    /// `corral wrap`: reads `path`, wraps it, and writes it back (`inPlace`, after saving the original bytes as
    /// `PATH.corral-backup` unless a backup exists) or returns the text. Nothing is written when no server changes.
    public static func wrapFile(_ path: String, corral: String = "corral", options: RunOptions = RunOptions(),
                                inPlace: Bool) throws(CorralError) -> FileResult {
        let file = try ConfigFile(path)
        let rewrite = try naming(path) { () throws(CorralError) in
            try wrap(parse(file.text, file: path), corral: corral, options: options)
        }
        var result = FileResult(changes: rewrite.changes, backup: file.path + backupSuffix)
        guard inPlace else {
            result.output = render(rewrite.document)
            return result
        }
        guard rewrite.changed else { return result }
        result.createdBackup = try createIfAbsent(result.backup, bytes: file.bytes, like: file)
        try replace(file.path, bytes: Array(render(rewrite.document).utf8), like: file)
        result.wrote = true
        return result
    }

    /// `corral unwrap`: reads `path` and unwraps it. When `PATH.corral-backup` holds the same configuration as
    /// the unwrapped one (the file was not changed since it was wrapped, but for corral's own options), the
    /// backup's bytes are the result, so the original formatting comes back too; in place, the backup is then
    /// removed. Otherwise the structural unwrap is written, and the backup kept.
    public static func unwrapFile(_ path: String, corral: String = "corral", inPlace: Bool) throws(CorralError) -> FileResult {
        let file = try ConfigFile(path)
        let rewrite = try naming(path) { () throws(CorralError) in try unwrap(parse(file.text, file: path), corral: corral) }
        var result = FileResult(changes: rewrite.changes, backup: file.path + backupSuffix)
        var bytes = Array(render(rewrite.document).utf8)
        let backup = try? ConfigFile(result.backup)
        result.foundBackup = backup != nil
        if rewrite.changed, let backup, let original = try? parse(backup.text, file: result.backup),
           original == rewrite.document {
            bytes = backup.bytes
            result.restoredFromBackup = true
        }
        guard inPlace else {
            result.output = String(decoding: bytes, as: UTF8.self)
            return result
        }
        guard rewrite.changed else { return result }
        try replace(file.path, bytes: bytes, like: file)
        result.wrote = true
        if result.restoredFromBackup { _ = unlink(result.backup) }
        return result
    }

    /// Runs `body`, putting `path` in front of a failure that does not name it yet.
    private static func naming(_ path: String, _ body: () throws(CorralError) -> Rewrite) throws(CorralError) -> Rewrite {
        do {
            return try body()
        } catch {
            guard !error.message.hasPrefix(path + ": ") else { throw error }
            var named = error
            named.message = path + ": " + error.message
            throw named
        }
    }

    /// A configuration file read whole, with what its replacement must keep (mode, owner).
    struct ConfigFile {
        /// The path written to: a symbolic link is followed, so the link stays a link.
        var path: String
        var bytes: [UInt8]
        var text: String
        var mode: mode_t
        var owner: AtomicFile.Owner

        init(_ path: String) throws(CorralError) {
            var path = path
            var linkStatus = stat()
            if lstat(path, &linkStatus) == 0, linkStatus.st_mode & S_IFMT == S_IFLNK, let target = FilePath.resolved(path) {
                path = target
            }
            func unreadable(_ reason: String) -> CorralError {
                CorralError(.inputUnavailable, "cannot read \(path): \(reason)")
            }
            // O_NONBLOCK: opening a FIFO must not wait for a writer; only a regular file is read (checked below).
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { throw unreadable(errnoText(errno)) }
            defer { close(fd) }
            var status = stat()
            guard fstat(fd, &status) == 0 else { throw unreadable(errnoText(errno)) }
            guard status.st_mode & S_IFMT == S_IFREG else { throw unreadable("not a regular file") }
            guard let bytes = FileText.bytes(descriptor: fd) else { throw unreadable(errnoText(errno)) }
            // A UTF-8 byte order mark (some Windows editors write one) is not JSON; the backup keeps it.
            let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...]
            guard let text = String(validating: body, as: UTF8.self) else {
                throw CorralError(.invalidConfiguration, "\(path): not UTF-8 text")
            }
            self.path = path
            self.bytes = bytes
            self.text = text
            self.mode = status.st_mode & 0o7777
            self.owner = AtomicFile.Owner(user: status.st_uid, group: status.st_gid)
        }
    }

    /// Replaces `path` with `bytes` atomically, keeping `file`'s mode and owner.
    static func replace(_ path: String, bytes: [UInt8], like file: ConfigFile) throws(CorralError) {
        do {
            try AtomicFile.write(bytes, to: path, mode: file.mode, owner: file.owner)
        } catch {
            throw error.recoded(.outputFailed)
        }
    }

    /// Creates `path` with `bytes` unless something is there already; returns whether it did.
    static func createIfAbsent(_ path: String, bytes: [UInt8], like file: ConfigFile) throws(CorralError) -> Bool {
        do {
            return try AtomicFile.create(bytes, at: path, mode: file.mode, owner: file.owner)
        } catch {
            throw error.recoded(.outputFailed)
        }
    }
}
