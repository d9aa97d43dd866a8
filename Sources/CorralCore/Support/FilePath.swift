internal import Glibc

/// Paths as the kernel sees them.
package enum FilePath {
    /// `path` with every symbolic link, "." and ".." resolved (realpath); nil when some part of it does not exist.
    package static func resolved(_ path: String) -> String? {
        // A C string ends at the first NUL: "/\0etc" would be "/".
        guard !path.contains("\0"), let absolute = realpath(path, nil) else { return nil }
        defer { free(absolute) }
        return String(cString: absolute)
    }

    /// This process's working directory (getcwd), or "/" when it has none.
    package static var current: String {
        guard let directory = getcwd(nil, 0) else { return "/" }
        defer { free(directory) }
        return String(cString: directory)
    }

    /// The directory part of `path` ("/" for "/x", "." for a bare name), as dirname(3) without touching the disk.
    package static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
