internal import Glibc

/// The one way Corral reads small text files: cgroup and proc files, state records, profiles, configurations.
package enum FileText {
    /// The contents of `file` (relative to the open directory `directory`, or a path with AT_FDCWD), at most `limit`
    /// bytes of it; nil when it cannot be opened or read.
    package static func read(_ file: String, in directory: Int32 = AT_FDCWD, atMost limit: Int = .max) -> String? {
        let fd = openat(directory, file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        return read(descriptor: fd, atMost: limit)
    }

    /// The contents of an open file from its start (pread, so an event descriptor can be read again and again).
    package static func read(descriptor fd: Int32, atMost limit: Int = .max) -> String? {
        bytes(descriptor: fd, atMost: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The bytes of an open file from its start, at most `limit` of them; nil on a read error.
    package static func bytes(descriptor fd: Int32, atMost limit: Int = .max) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let wanted = min(buffer.count, limit - bytes.count)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(bytes.count)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            bytes += buffer.prefix(n)
            // A short read of a regular, cgroup or proc file is its end: no second call to learn it.
            if n < wanted { break }
        }
        return bytes
    }

    /// The contents of a small text file with surrounding white space trimmed, or nil if it cannot be read.
    package static func trimmed(_ path: String) -> String? {
        read(path)?.trimmingWhitespace()
    }
}

extension StringProtocol {
    /// The text without leading and trailing white space: spaces and tabs, and line breaks too unless `lines` is
    /// false (a limit such as "512M\n" is malformed, as systemd sees it).
    package func trimmingWhitespace(lines: Bool = true) -> String {
        let trimmed: (Character) -> Bool = lines ? { $0.isWhitespace } : { $0 == " " || $0 == "\t" }
        return String(drop(while: trimmed).reversed().drop(while: trimmed).reversed())
    }
}
