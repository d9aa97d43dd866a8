internal import CSystemdShim
internal import Glibc

extension ServerProcess {
    /// The server's stdout as byte chunks until it closes (needs `standardOutput = .pipe`). It can be taken once:
    /// a second call is an error.
    public func standardOutputBytes() throws(CorralError) -> AsyncStream<[UInt8]> {
        guard let pipe = pipes.output else { throw Self.notAPipe("standardOutput") }
        guard let stream = Reactor.shared.readStream(pipe) else { throw Self.takenBefore("standardOutput") }
        return stream
    }

    /// The server's stderr as byte chunks until it closes (needs `standardError = .pipe`). It can be taken once:
    /// a second call is an error.
    public func standardErrorBytes() throws(CorralError) -> AsyncStream<[UInt8]> {
        guard let pipe = pipes.error else { throw Self.notAPipe("standardError") }
        guard let stream = Reactor.shared.readStream(pipe, tap: standardErrorTail) else { throw Self.takenBefore("standardError") }
        return stream
    }

    /// Copies the server's stderr (a pipe) to `fd` as it comes, keeping its tail. Writes happen on a task, never
    /// on the reactor thread; the server's end waits for the copy to finish.
    func startRelay(to fd: Int32) {
        guard let stream = try? standardErrorBytes() else { return }
        setRelay(Task.detached {
            for await chunk in stream {
                var rest = chunk[...]
                while !rest.isEmpty {
                    // A reader that is gone is EPIPE here, never the process's death by SIGPIPE.
                    let n = rest.withUnsafeBytes { cs_write_nosigpipe(fd, $0.baseAddress!, $0.count) }
                    if n <= 0 { break }
                    rest = rest.dropFirst(n)
                }
            }
        })
    }

    /// Writes to the server's stdin (needs `standardInput = .pipe`). Suspends while the pipe is full; safe to call
    /// from many tasks at once (each call's bytes stay together). After `closeStandardInput` it fails with EPIPE.
    public func writeStandardInput(_ bytes: [UInt8]) async throws(CorralError) {
        guard let pipe = pipes.input else { throw Self.notAPipe("standardInput") }
        try await Reactor.shared.write(bytes, to: pipe)
    }

    /// Closes the server's stdin once what was written before has gone: EOF is how MCP clients ask a stdio server
    /// to shut down. Calling it again does nothing.
    public func closeStandardInput() async {
        guard let pipe = pipes.input else { return }
        await Reactor.shared.closeAfterWrites(pipe)
    }

    private static func takenBefore(_ stream: String) -> CorralError {
        CorralError(.invalidConfiguration, "the server's \(stream) is already being read: take its bytes once")
    }

    private static func notAPipe(_ stream: String) -> CorralError {
        CorralError(.invalidConfiguration, "the server's \(stream) is not a pipe: configure it as .pipe to use it")
    }
}
