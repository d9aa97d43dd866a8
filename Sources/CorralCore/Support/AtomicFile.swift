internal import Glibc

/// Files that appear whole or not at all: written to a temporary file in the same directory (a dot file, which
/// node_exporter and shells ignore), synced, given their mode (and owner), and renamed into place, and the directory
/// synced. A reader never sees a part. The one writer of files in Corral.
package enum AtomicFile {
    /// Who a written file belongs to: root may give a file away, others keep their own.
    package struct Owner: Sendable {
        package var user: UInt32
        package var group: UInt32
        package init(user: UInt32, group: UInt32) {
            self.user = user
            self.group = group
        }
    }

    /// Replaces (or creates) `path` with `text`.
    package static func write(_ text: String, to path: String, mode: UInt32, owner: Owner? = nil) throws(CorralError) {
        try write(Array(text.utf8), to: path, mode: mode, owner: owner)
    }

    /// Replaces (or creates) `path` with `bytes`.
    package static func write(_ bytes: [UInt8], to path: String, mode: UInt32, owner: Owner? = nil) throws(CorralError) {
        let temporary = try temporaryFile(next: path, mode: mode, owner: owner) { fd throws(CorralError) in
            try writeAll(fd, bytes[...], to: path)
        }
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw failure("replace \(path)", error)
        }
        syncDirectory(of: path)
    }

    /// Creates `path` with `bytes` unless something is there already; returns whether it did. Never leaves a partial
    /// file: the bytes are synced to a temporary file first, then linked in (which fails if `path` exists).
    package static func create(_ bytes: [UInt8], at path: String, mode: UInt32, owner: Owner? = nil) throws(CorralError) -> Bool {
        var status = stat()
        if lstat(path, &status) == 0 { return false }
        let temporary = try temporaryFile(next: path, mode: mode, owner: owner) { fd throws(CorralError) in
            try writeAll(fd, bytes[...], to: path)
        }
        defer { unlink(temporary) }
        if link(temporary, path) == 0 {
            syncDirectory(of: path)
            return true
        }
        let error = errno
        if error == EEXIST { return false }
        // A file system without hard links: a rename, after checking again that nothing appeared.
        if lstat(path, &status) != 0, rename(temporary, path) == 0 {
            syncDirectory(of: path)
            return true
        }
        throw failure("create \(path)", error)
    }

    /// Replaces (or creates) `path` with a copy of the file at `source`.
    package static func copy(_ source: String, to path: String, mode: UInt32) throws(CorralError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("read \(source)", errno) }
        defer { close(input) }
        let temporary = try temporaryFile(next: path, mode: mode, owner: nil) { fd throws(CorralError) in
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw failure("read \(source)", errno) }
                if n == 0 { return }
                try writeAll(fd, buffer[..<n], to: path)
            }
        }
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw failure("replace \(path)", error)
        }
        syncDirectory(of: path)
    }

    /// Removes `path`; returns false when there was nothing to remove.
    package static func remove(_ path: String) throws(CorralError) -> Bool {
        guard unlink(path) == 0 else {
            if errno == ENOENT { return false }
            throw failure("remove \(path)", errno)
        }
        syncDirectory(of: path)
        return true
    }

    /// Creates `path` and its missing parents with mode 0755.
    package static func makeDirectories(_ path: String) throws(CorralError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw failure("create \(prefix)", errno) }
        }
    }

    /// A new temporary file next to `path`, filled by `fill`, with `mode` (set, not masked: a textfile for
    /// node_exporter must be readable by it whatever our umask) and `owner`, synced and closed. Returns its path.
    private static func temporaryFile(next path: String, mode: UInt32, owner: Owner?,
                                      fill: (Int32) throws(CorralError) -> Void) throws(CorralError) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array((directory + "." + name + ".XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure("create a temporary file in \(directory.isEmpty ? "." : directory) for \(path)", errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do throws(CorralError) {
            try fill(fd)
            if let owner { _ = fchown(fd, owner.user, owner.group) }  // only root may give a file away
            guard fchmod(fd, mode) == 0 else { throw failure("chmod \(temporary)", errno) }
            guard fsync(fd) == 0 else { throw failure("sync \(temporary)", errno) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard close(fd) == 0 else {
            let error = errno
            unlink(temporary)
            throw failure("write \(temporary)", error)
        }
        return temporary
    }

    private static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, to path: String) throws(CorralError) {
        var rest = bytes
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("write \(path)", n < 0 ? errno : EIO) }
            rest = rest.dropFirst(n)
        }
    }

    /// Syncs the directory holding `path`, so a rename or unlink in it survives a crash.
    package static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func failure(_ what: String, _ error: Int32) -> CorralError {
        CorralError(.system, "cannot \(what): \(errnoText(error))", stage: what.split(separator: " ").first.map(String.init),
                    errno: error)
    }
}
