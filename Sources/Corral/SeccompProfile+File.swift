internal import Glibc

extension SeccompProfile {
    /// Reads an OCI / Docker JSON seccomp profile from a file.
    public init(contentsOf path: String) throws(CorralError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let error = Glibc.errno
            throw CorralError(.invalidConfiguration, "cannot read seccomp profile '\(path)': \(errnoText(error))",
                              stage: "open", errno: error)
        }
        defer { close(fd) }
        guard let text = Cgroup.readAll(fd), !text.isEmpty else {
            throw CorralError(.invalidConfiguration, "cannot read seccomp profile '\(path)': it is empty or unreadable")
        }
        try self.init(ociJSON: text, source: "seccomp profile '\(path)'")
    }
}
