internal import CSystemdShim
internal import Glibc
import Synchronization

/// One thread that watches file descriptors for every server in the process (exits through pidfds, cgroup event
/// files, pipes) and forks gated children. Forking here matters: PR_SET_PDEATHSIG fires when the forking *thread*
/// exits, and this thread lives as long as the process, unlike the threads of Swift's cooperative pool.
package final class Reactor: Sendable {
    /// Called on the reactor thread with the epoll events; returns whether to keep watching. Must not block.
    package typealias Handler = @Sendable (_ events: UInt32) -> Bool

    package static let shared = Reactor()

    private let epoll: Int32
    private let wake: Int32
    private let handlers = Mutex<[Int32: Handler]>([:])
    private let work = Mutex<[@Sendable () -> Void]>([])
    /// Bytes waiting to be written, per descriptor (see Reactor+IO).
    let writes = Mutex<[Int32: [Pending]]>([:])

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epoll >= 0 && wake >= 0, "Corral: epoll or eventfd unavailable: \(errnoText(Glibc.errno))")
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wake))
        epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { argument in
            Unmanaged<Reactor>.fromOpaque(argument!).takeUnretainedValue().run()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        precondition(started == 0, "Corral: cannot start the reactor thread: \(errnoText(started))")
        pthread_detach(thread)
    }

    /// Watches `fd` for `events` (EPOLLIN, EPOLLOUT, EPOLLPRI) until the handler returns false or `unwatch` is called.
    package func watch(_ fd: Int32, events: UInt32, _ handler: @escaping Handler) {
        handlers.withLock { $0[fd] = handler }
        var event = epoll_event(events: events, data: epoll_data_t(fd: fd))
        if epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0 {
            // Not pollable (or already watched): report once so the caller's state machine moves on.
            handlers.withLock { $0[fd] = nil }
            _ = handler(EPOLLERR.rawValue)
        }
    }

    /// Stops watching `fd`. Call it before closing the descriptor.
    package func unwatch(_ fd: Int32) {
        handlers.withLock { $0[fd] = nil }
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
    }

    /// Whether `fd` is being watched.
    package func isWatched(_ fd: Int32) -> Bool { handlers.withLock { $0[fd] != nil } }

    /// Runs `body` on the reactor thread and returns its result.
    package func perform<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            perform { continuation.resume(returning: body()) }
        }
    }

    /// Runs `body` on the reactor thread, later.
    package func perform(_ body: @escaping @Sendable () -> Void) {
        work.withLock { $0.append(body) }
        var one: UInt64 = 1
        _ = Glibc.write(wake, &one, 8)
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let count = epoll_wait(epoll, &events, Int32(events.count), -1)
            if count < 0 { continue }  // EINTR
            for event in events.prefix(Int(count)) {
                let fd = event.data.fd
                if fd == wake {
                    var value: UInt64 = 0
                    _ = Glibc.read(wake, &value, 8)
                    for item in work.withLock({ queue in defer { queue.removeAll() }; return queue }) { item() }
                    continue
                }
                guard let handler = handlers.withLock({ $0[fd] }) else { continue }
                if !handler(event.events) { unwatch(fd) }
            }
        }
    }
}
