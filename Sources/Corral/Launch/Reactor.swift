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
    /// One watch of a descriptor. The id tells registrations apart when a closed descriptor's number is reused.
    private struct Registration {
        let id: UInt64
        let handler: Handler
    }

    private let handlers = Mutex<(next: UInt64, byDescriptor: [Int32: Registration])>((0, [:]))
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
        // The map and epoll change together under the lock, so a late unwatch of an old registration can never
        // remove a new one on a reused descriptor number.
        let added = handlers.withLock { state -> Bool in
            var event = epoll_event(events: events, data: epoll_data_t(fd: fd))
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { return false }
            state.next += 1
            state.byDescriptor[fd] = Registration(id: state.next, handler: handler)
            return true
        }
        // Not pollable: report once so the caller's state machine moves on.
        if !added { _ = handler(EPOLLERR.rawValue) }
    }

    /// Stops watching `fd`. Call it before closing the descriptor.
    package func unwatch(_ fd: Int32) {
        handlers.withLock { state in
            guard state.byDescriptor.removeValue(forKey: fd) != nil else { return }
            epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        }
    }

    /// Stops watching `fd` only if it is still the registration `id`.
    private func unwatch(_ fd: Int32, registration id: UInt64) {
        handlers.withLock { state in
            guard state.byDescriptor[fd]?.id == id else { return }
            state.byDescriptor[fd] = nil
            epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        }
    }

    /// Whether `fd` is being watched.
    package func isWatched(_ fd: Int32) -> Bool { handlers.withLock { $0.byDescriptor[fd] != nil } }

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
        // Writes to a server's stdin happen here: a server that closed it makes them fail with EPIPE. Blocked in
        // this thread's mask only; the embedding process's dispositions are its own.
        _ = cs_block_sigpipe()
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
                guard let registration = handlers.withLock({ $0.byDescriptor[fd] }) else { continue }
                if !registration.handler(event.events) { unwatch(fd, registration: registration.id) }
            }
        }
    }
}
