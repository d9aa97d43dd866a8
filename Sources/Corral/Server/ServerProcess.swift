internal import CSystemdShim
internal import Glibc
import Synchronization

/// A running MCP server in its own scope: the handle a gateway holds.
///
/// When the server's main process ends, everything left in its scope (grandchildren, `setsid` escapees) is killed at
/// once and the scope is stopped; `wait()` returns after that. All methods may be called from many tasks at once.
/// The library reaps the server itself, through its pidfd. A gateway that ignores SIGCHLD (the kernel then reaps
/// children itself) or reaps with `waitpid(-1)` still gets a `wait()` that returns, with status `.unknown` when the
/// status was taken first.
public final class ServerProcess: Sendable {
    /// The server's main process.
    public let pid: Int32
    /// Its scope unit, e.g. `corral-mcp\x2dserver\x2dtime-1a2b3c4d.scope`.
    public let unit: String
    public let name: ServerName
    /// Our end of the server's stdin, when it was configured as `.pipe`.
    public let standardInput: Int32?
    /// Our end of the server's stdout, when it was configured as `.pipe`.
    public let standardOutput: Int32?
    /// Our end of the server's stderr, when it was configured as `.pipe`.
    public let standardError: Int32?
    /// The same ends as the reactor reads, writes and closes them (see `ReactorPipe`).
    let pipes: (input: ReactorPipe?, output: ReactorPipe?, error: ReactorPipe?)

    /// The last lines the server wrote to stderr, when stderr is relayed (`.relay(to:)`) or read through
    /// `standardErrorBytes()`.
    public let standardErrorTail = TailBuffer()

    private let scope: ServerScope
    private let bus: SystemdBus
    private let guardrails: ServerGuardrails?
    private let started = ContinuousClock.now
    private let pidfd: Int32
    private let state = Mutex(State())

    private struct State {
        var termination: Termination?
        var waiters: [CheckedContinuation<Termination, Never>] = []
        var stopRequested = false
        /// The main process has ended (the termination follows once its scope is stopped).
        var mainExited = false
        /// The main process was seen alive (its pidfd not yet readable) once the minimum uptime had passed.
        var stayedUp = false
        /// The highest counters and peaks read so far: the scope's cgroup vanishes with it.
        var lastUsage: Usage?
        var eventDescriptors: [Int32] = []
        /// The cgroup and event descriptors are closed. Set under this lock as they are closed, and checked under
        /// it before every use, so that no kill or read ever reaches a reused descriptor number.
        var closed = false
        /// Copies stderr while it is relayed; the exit is recorded after it has drained.
        var relay: Task<Void, Never>?
    }

    /// Starts a server as `configuration` says: a scope with its limits around a child that runs no code of its own
    /// before it is inside, with no_new_privs and the seccomp profile applied right before exec.
    public static func spawn(_ configuration: ServerConfiguration) async throws(CorralError) -> ServerProcess {
        ServerProcess(try await Spawner(configuration).launch())
    }

    /// Takes over a launched server (which `Spawner` has recorded as running): watches its exit and its cgroup's
    /// event files, relays its stderr, and tells the guardrails how it went.
    private init(_ launched: LaunchedServer) {
        guardrails = launched.guardrails
        pid = launched.pid
        unit = launched.scope.unit
        name = launched.name
        scope = launched.scope
        bus = launched.bus
        standardInput = launched.standardStreams[0]
        standardOutput = launched.standardStreams[1]
        standardError = launched.standardStreams[2]
        pipes = (standardInput.map(ReactorPipe.init), standardOutput.map(ReactorPipe.init), standardError.map(ReactorPipe.init))
        pidfd = launched.pidfd
        // Relaying starts before the exit is watched, so the end of a server waits for its last words.
        if let relay = launched.relayStandardErrorTo { startRelay(to: relay) }
        let reactor = Reactor.shared
        // The kernel flags memory.events and pids.events (EPOLLPRI) when an OOM kill or a refused fork is counted,
        // before the victims are gone: read them then, from the open descriptor, while the scope exists.
        for (file, key, field) in [("memory.events", "oom_kill", \Usage.oomKills), ("pids.events", "max", \Usage.tasksLimitHits)] {
            guard let fd = scope.cgroup.openForEvents(file) else { continue }
            state.withLock { $0.eventDescriptors.append(fd) }
            reactor.watch(fd, events: EPOLLPRI.rawValue | EPOLLET.rawValue) { [self] _ in countersChanged(fd, key, field) }
        }
        reactor.watch(pidfd, events: EPOLLIN.rawValue) { [self] _ in mainProcessExited() }
        if let guardrails {
            // Staying up for the minimum uptime is success: forget past failures then, not only at the exit. An
            // exit before it, however long its end takes to process, is not.
            // Alive means the pidfd is not readable yet: the exit may have happened already and not been seen,
            // on a machine too busy to run this process for a while.
            Task { [self] in
                try? await Task.sleep(for: guardrails.policy.minimumUptime)
                let alive = state.withLock { state in
                    guard !state.mainExited, !state.closed else { return false }
                    var poll = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                    state.stayedUp = Glibc.poll(&poll, 1, 0) == 0
                    return state.stayedUp
                }
                if alive { guardrails.recordHealthy() }
            }
        }
    }

    /// Waits until the server has ended and its scope is gone.
    public func wait() async -> Termination {
        await withCheckedContinuation { continuation in
            let done: Termination? = state.withLock { state in
                if let termination = state.termination { return termination }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// The termination, if the server has ended.
    public var termination: Termination? { state.withLock { $0.termination } }

    /// Current memory, tasks, CPU and OOM counts from the scope's cgroup; nil once the server has ended.
    public func usage() -> Usage? {
        state.withLock { state in state.termination == nil ? readUsage(&state) : nil }
    }

    /// Sends a signal to the server's main process (never to a reused PID: it goes through a pidfd).
    public func signal(_ signal: Int32) {
        state.withLock { state in
            if state.termination == nil { _ = cs_pidfd_send_signal(pidfd, signal) }
        }
    }

    /// Passes a termination signal on as a stop that was asked for: the server's end then counts as `.stopped`, not
    /// as a failure for the guardrails (signal 0 only records that: for a signal the server already got, like a
    /// terminal's ^C). Returns false when the main process had already exited.
    @discardableResult
    public func requestStop(_ signal: Int32 = 15) -> Bool {
        state.withLock { state in
            guard !state.mainExited else { return false }
            state.stopRequested = true
            _ = cs_pidfd_send_signal(pidfd, signal)
            return true
        }
    }

    /// Stops the server: SIGTERM to its main process, up to `grace` for it to exit, then SIGKILL to every process
    /// of the scope at once. Returns the termination (reason `.stopped` unless it had ended before).
    @discardableResult
    public func stop(grace: Duration = .seconds(2)) async -> Termination {
        guard requestStop(SIGTERM) else { return await wait() }
        let killer = Task {
            guard (try? await Task.sleep(for: grace)) != nil else { return }
            self.state.withLock { state in
                if !state.closed && state.termination == nil { _ = self.scope.cgroup.kill() }
            }
        }
        let termination = await wait()
        killer.cancel()
        return termination
    }

    // MARK: The end of a server

    func setRelay(_ task: Task<Void, Never>) { state.withLock { $0.relay = task } }

    /// Reads the scope's usage now (under the lock, while its descriptors are open) and remembers the highest
    /// counters and peak seen.
    @discardableResult
    private func readUsage(_ state: inout State) -> Usage? {
        guard !state.closed, let fresh = Usage(scope.cgroup) else { return nil }
        let usage = state.lastUsage.map { fresh.keepingHighest(of: $0) } ?? fresh
        state.lastUsage = usage
        return usage
    }

    /// On the reactor thread, when the kernel flagged an event file: its counter `key`, read from the open
    /// descriptor, goes into `field`.
    private func countersChanged(_ fd: Int32, _ key: String, _ field: WritableKeyPath<Usage, UInt64?>) -> Bool {
        state.withLock { state in
            guard !state.closed, let text = FileText.read(descriptor: fd) else { return false }
            readUsage(&state)
            if let count = CgroupFiles.keyed(text)[key], let last = state.lastUsage {
                state.lastUsage?[keyPath: field] = max(count, last[keyPath: field] ?? 0)
            }
            return true
        }
    }

    /// On the reactor thread, once the pidfd says the main process is gone: reap it, read the counters while the
    /// scope exists, kill what is left.
    private func mainProcessExited() -> Bool {
        var info = siginfo_t()
        let waited = waitid(P_PIDFD, id_t(pidfd), &info, WEXITED | WNOHANG)
        if waited < 0 && errno == EINTR { return true }
        let status: Termination.Status
        if waited < 0 {
            status = .unknown  // ECHILD: SIGCHLD ignored (the kernel reaped it) or a waitpid(-1) took it first
        } else if info._sifields._sigchld.si_pid == 0 {
            return true  // not waitable yet
        } else {
            let code = info._sifields._sigchld.si_status
            status = info.si_code == CLD_EXITED ? .exited(code) : .signaled(code)
        }
        let uptime = state.withLock { state in
            state.mainExited = true
            // An exit seen late (this process was not scheduled) must not make a crash look long: without a look
            // that found it alive after the minimum uptime, the run counts as shorter than that minimum.
            let measured = ContinuousClock.now - started
            let minimum = guardrails?.policy.minimumUptime ?? .zero
            let uptime = state.stayedUp || minimum <= .zero ? measured : min(measured, minimum - .milliseconds(1))
            // The tasks-limit count is the scope's own (pids.events is not hierarchical): without the scope, it
            // is unknown unless it was seen before.
            if readUsage(&state) == nil, state.lastUsage?.tasksLimitHits == 0 { state.lastUsage?.tasksLimitHits = nil }
            if !state.closed { _ = scope.cgroup.kill() }
            return uptime
        }
        Task { await self.finish(status, uptime: uptime) }
        return false
    }

    private func finish(_ status: Termination.Status, uptime: Duration) async {
        // stderr has drained by now (everything in the scope was killed).
        await state.withLock({ $0.relay })?.value
        let outcome = state.withLock { state in
            readLeaf(&state)
            return Self.termination(status, state: state)
        }
        // The guardrails learn the outcome before any bus round trip: other starts of this server may wait on it.
        guardrails?.recordExit(Termination(status: outcome.status, reason: outcome.reason),
                               uptime: uptime, stderr: standardErrorTail.lastLines(20))
        // Stopping the leaf slice stops the scope with it (if systemd has not removed it already).
        try? await bus.stopUnit(scope.outermostUnit)
        let waiters = state.withLock { state in
            state.termination = outcome
            state.closed = true
            close(pidfd)
            for fd in state.eventDescriptors {
                Reactor.shared.unwatch(fd)
                close(fd)
            }
            scope.close()
            defer { state.waiters.removeAll(); state.eventDescriptors.removeAll() }
            return state.waiters
        }
        guardrails?.recordGone(unit: unit)
        for waiter in waiters { waiter.resume(returning: outcome) }
    }

    /// Reads the leaf slice after the main process is reaped: its memory.events counts every OOM kill of the scope
    /// and outlives the scope's removal; its CPU time and peak include the scope's. Unreadable, the OOM count is
    /// unknown unless a kill was seen before.
    private func readLeaf(_ state: inout State) {
        guard !state.closed, let leaf = scope.leaf, var totals = Usage(leaf.cgroup), totals.oomKills != nil else {
            if state.lastUsage?.oomKills == 0 { state.lastUsage?.oomKills = nil }
            return
        }
        // The limits and the tasks-limit count are the scope's own.
        totals.memoryMax = state.lastUsage?.memoryMax ?? scope.memoryMax
        totals.tasksMax = state.lastUsage?.tasksMax ?? scope.tasksMax
        totals.tasksLimitHits = state.lastUsage?.tasksLimitHits
        state.lastUsage = state.lastUsage.map { totals.keepingHighest(of: $0) } ?? totals
    }

    /// How the server ended: an OOM kill or a hit tasks limit explain it first, then a stop that was asked for. A
    /// lost status after an OOM kill is the SIGKILL the kernel kills with.
    private static func termination(_ status: Termination.Status, state: State) -> Termination {
        let usage = state.lastUsage
        let oomKilled = (usage?.oomKills ?? 0) > 0
        let reason: Termination.Reason = oomKilled ? .oomKilled
            : (usage?.tasksLimitHits ?? 0) > 0 ? .tasksLimit : state.stopRequested ? .stopped : .exited
        return Termination(status: status == .unknown && oomKilled ? .signaled(SIGKILL) : status, reason: reason, usage: usage)
    }
}

extension ServerProcess {
    /// Replaces this process with the server, inside its own scope with its limits, no_new_privs and seccomp (what
    /// `corral run --exec` and `systemd-run --scope` do): nothing stays resident. Returns only by throwing.
    public static func exec(_ configuration: ServerConfiguration) async throws(CorralError) -> Never {
        try await Spawner(configuration).execInPlace()
    }
}
