internal import CSystemdShim
internal import Glibc

extension ServerProcess {
    /// The server's stdout as byte chunks until it closes (needs `standardOutput = .pipe`). Consume it once.
    public func standardOutputBytes() throws(CorralError) -> AsyncStream<[UInt8]> {
        guard let fd = standardOutput else { throw Self.notAPipe("standardOutput") }
        return Reactor.shared.readStream(fd)
    }

    /// The server's stderr as byte chunks until it closes (needs `standardError = .pipe`). Consume it once.
    public func standardErrorBytes() throws(CorralError) -> AsyncStream<[UInt8]> {
        guard let fd = standardError else { throw Self.notAPipe("standardError") }
        return Reactor.shared.readStream(fd, tap: standardErrorTail)
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
    /// from many tasks at once (each call's bytes stay together).
    public func writeStandardInput(_ bytes: [UInt8]) async throws(CorralError) {
        guard let fd = standardInput else { throw Self.notAPipe("standardInput") }
        try await Reactor.shared.write(bytes, to: fd)
    }

    /// Closes the server's stdin: EOF is how MCP clients ask a stdio server to shut down.
    public func closeStandardInput() async {
        guard let fd = standardInput else { return }
        await Reactor.shared.closeAfterWrites(fd)
    }

    private static func notAPipe(_ stream: String) -> CorralError {
        CorralError(.invalidConfiguration, "the server's \(stream) is not a pipe: configure it as .pipe to use it")
    }
}
