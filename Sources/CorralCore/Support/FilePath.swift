internal import Glibc

/// Paths as the kernel sees them.
package enum FilePath {
    /// `path` with every symbolic link, "." and ".." resolved (realpath); nil when some part of it does not exist.
    package static func resolved(_ path: String) -> String? {
        guard let absolute = realpath(path, nil) else { return nil }
        defer { free(absolute) }
        return String(cString: absolute)
    }
}
