internal import Glibc

extension SeccompProfile {
    /// The largest profile file read: Docker's default profile is about 20 KiB.
    public static let maximumFileSize = 1 << 20

    /// Reads an OCI / Docker JSON seccomp profile from a regular file of at most `maximumFileSize` bytes (a
    /// directory, a FIFO or /dev/zero is refused before anything is read).
    public init(contentsOf path: String) throws(CorralError) {
        func fail(_ reason: String, errno: Int32? = nil) -> CorralError {
            CorralError(.invalidConfiguration, "cannot read seccomp profile '\(path)': \(reason)", stage: "open", errno: errno)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let error = Glibc.errno
            throw fail(errnoText(error), errno: error)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = Glibc.errno
            throw fail(errnoText(error), errno: error)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw fail(status.st_mode & S_IFMT == S_IFDIR ? "it is a directory" : "it is not a regular file")
        }
        guard status.st_size <= Self.maximumFileSize else {
            throw fail("it is \(status.st_size) bytes; a profile may have at most \(Self.maximumFileSize)")
        }
        // The file may grow after fstat: read no more than the limit allows, and refuse what went past it.
        guard let text = FileText.read(descriptor: fd, atMost: Self.maximumFileSize + 1) else {
            let error = Glibc.errno
            throw fail(errnoText(error), errno: error)
        }
        guard !text.isEmpty else { throw fail("the file is empty") }
        guard text.utf8.count <= Self.maximumFileSize else {
            throw fail("it grew past \(Self.maximumFileSize) bytes while it was read")
        }
        try self.init(ociJSON: text, source: "seccomp profile '\(path)'")
    }
}
