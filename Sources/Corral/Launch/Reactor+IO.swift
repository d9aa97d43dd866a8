internal import CSystemdShim
internal import Glibc
import Synchronization

extension Reactor {
    /// The bytes arriving on `pipe`, chunk by chunk, until EOF; the descriptor is then closed. Cancelling the
    /// consuming task ends the stream. A pipe is streamed once: nil the second time.
    package func readStream(_ pipe: ReactorPipe, tap: TailBuffer? = nil) -> AsyncStream<[UInt8]>? {
        guard pipe.claim() else { return nil }
        let fd = pipe.fd
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .unbounded)
        continuation.onTermination = { [self] _ in
            // The pipe, not the number, says whether it is still open: by now the number may be someone else's.
            perform { if pipe.markClosed() { self.unwatch(fd); close(fd) } }
        }
        watch(fd, events: EPOLLIN.rawValue) { _ in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    let chunk = Array(buffer.prefix(n))
                    tap?.append(chunk)
                    continuation.yield(chunk)
                    continue
                }
                if n < 0 && (Glibc.errno == EAGAIN || Glibc.errno == EINTR) { return true }
                // EOF or error: the stream ends, and the descriptor with it.
                if pipe.markClosed() {
                    self.unwatch(fd)
                    close(fd)
                }
                continuation.finish()
                return false
            }
        }
        return stream
    }

    /// Writes all of `bytes` to `pipe` without ever blocking a thread: writes happen on the reactor thread in the
    /// order they were asked for, so concurrent callers never interleave their bytes. After `closeAfterWrites` a
    /// write fails with EPIPE (it never reaches whatever reuses the number).
    package func write(_ bytes: [UInt8], to pipe: ReactorPipe) async throws(CorralError) {
        let error: Int32? = await withCheckedContinuation { continuation in
            perform { () -> Void in
                if pipe.isClosing {
                    continuation.resume(returning: EPIPE)
                } else {
                    self.enqueueWrite(Pending(bytes: bytes[...], done: continuation), to: pipe.fd)
                }
            }
        }
        if let error {
            throw CorralError(.system, "cannot write to the server: \(errnoText(error))", stage: "write", errno: error)
        }
    }

    /// Closes `pipe` once everything queued before has been written; a second call does nothing.
    package func closeAfterWrites(_ pipe: ReactorPipe) async {
        _ = await withCheckedContinuation { continuation in
            perform { () -> Void in
                if pipe.markClosing() {
                    self.enqueueWrite(Pending(bytes: [], closes: true, done: continuation), to: pipe.fd)
                } else {
                    continuation.resume(returning: nil)
                }
            }
        }
    }

    struct Pending: Sendable {
        var bytes: ArraySlice<UInt8>
        var closes = false
        let done: CheckedContinuation<Int32?, Never>
    }

    /// On the reactor thread: queue, then write what the pipe takes now.
    private func enqueueWrite(_ pending: Pending, to fd: Int32) {
        let first = writes.withLock { queues -> Bool in
            queues[fd, default: []].append(pending)
            return queues[fd]!.count == 1
        }
        guard first else { return }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if drain(fd) && !isWatched(fd) { watch(fd, events: EPOLLOUT.rawValue) { [self] _ in drain(fd) } }
    }

    /// Writes queued bytes until the pipe is full (returns true: wait for EPOLLOUT) or the queue is empty.
    private func drain(_ fd: Int32) -> Bool {
        while let head = writes.withLock({ $0[fd]?.first }) {
            var pending = head
            var failure: Int32?
            while !pending.bytes.isEmpty {
                let n = pending.bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n >= 0 { pending.bytes = pending.bytes.dropFirst(n); continue }
                if Glibc.errno == EINTR { continue }
                if Glibc.errno == EAGAIN {
                    writes.withLock { $0[fd]![0] = pending }
                    return true
                }
                failure = Glibc.errno
                break
            }
            writes.withLock { queues in
                queues[fd]!.removeFirst()
                if queues[fd]!.isEmpty { queues[fd] = nil }
            }
            if pending.closes {
                if isWatched(fd) { unwatch(fd) }
                close(fd)
            }
            pending.done.resume(returning: failure)
        }
        return false
    }
}
