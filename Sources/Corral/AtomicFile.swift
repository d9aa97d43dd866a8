internal import Glibc

/// Files that appear whole or not at all: written to a temporary file in the same directory (a dot file, which
/// node_exporter and shells ignore), synced, given their mode, and renamed into place. A reader never sees a part.
package enum AtomicFile {
    /// Replaces (or creates) `path` with `text`.
    package static func write(_ text: String, to path: String, mode: UInt32) throws(CorralError) {
        try replace(path, mode: mode) { fd throws(CorralError) in
            try writeAll(fd, Array(text.utf8)[...], to: path)
        }
    }

    /// Replaces (or creates) `path` with a copy of the file at `source`.
    package static func copy(_ source: String, to path: String, mode: UInt32) throws(CorralError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("read \(source)", errno) }
        defer { close(input) }
        try replace(path, mode: mode) { fd throws(CorralError) in
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw failure("read \(source)", errno) }
                if n == 0 { return }
                try writeAll(fd, buffer[..<n], to: path)
            }
        }
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

    private static func replace(_ path: String, mode: UInt32, fill: (Int32) throws(CorralError) -> Void) throws(CorralError) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array((directory + "." + name + ".XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure("create a temporary file for \(path)", errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do throws(CorralError) {
            try fill(fd)
            // The mode is set, not masked: a textfile for node_exporter must be readable by it whatever our umask.
            guard fchmod(fd, mode) == 0 else { throw failure("chmod \(temporary)", errno) }
            guard fsync(fd) == 0 else { throw failure("sync \(temporary)", errno) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        let closed = close(fd) == 0 ? 0 : errno
        guard closed == 0, rename(temporary, path) == 0 else {
            let error = closed == 0 ? errno : closed
            unlink(temporary)
            throw failure("write \(path)", error)
        }
        syncDirectory(of: path)
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
    static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func failure(_ what: String, _ error: Int32) -> CorralError {
        CorralError(.system, "cannot \(what): \(errnoText(error))", stage: what.split(separator: " ").first.map(String.init), errno: error)
    }
}
