internal import CSystemdShim
internal import Glibc

/// The descriptors behind a server's stdin, stdout and stderr: the ends the child gets and the ends we keep.
struct StandardStreams: Sendable {
    /// What the child's 0, 1 and 2 become (-1: inherit).
    let childEnds: [Int32]
    /// Our ends of pipes (nil where the stream is not a pipe).
    let parentEnds: [Int32?]
    private let opened: [Int32]

    init(_ configuration: ServerConfiguration) throws(CorralError) {
        var child: [Int32] = [-1, -1, -1]
        var parent: [Int32?] = [nil, nil, nil]
        var opened: [Int32] = []
        let streams = [configuration.standardInput, configuration.standardOutput, configuration.standardError]
        for (index, stream) in streams.enumerated() {
            switch stream {
            case .inherit: break
            case .fileDescriptor(let fd): child[index] = fd
            case .null:
                let fd = open("/dev/null", (index == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC)
                if fd >= 0 { child[index] = fd; opened.append(fd) }
            case .pipe, .relay:
                var fds: [Int32] = [-1, -1]
                let status = cs_pipe_cloexec(&fds)
                guard status >= 0 else {
                    for fd in opened + parent.compactMap({ $0 }) { close(fd) }
                    throw CorralError(.system, "cannot create a pipe: \(errnoText(-status))", stage: "pipe2", errno: -status)
                }
                child[index] = index == 0 ? fds[0] : fds[1]
                parent[index] = index == 0 ? fds[1] : fds[0]
                opened.append(child[index])
            }
        }
        childEnds = child
        parentEnds = parent
        self.opened = opened
    }

    /// Closes our copies of the child's ends once the child holds its own.
    func closeChildEnds() { for fd in opened { close(fd) } }

    /// Closes our ends when the start failed.
    func closeParentEnds() { for fd in parentEnds.compactMap({ $0 }) { close(fd) } }
}
