internal import CSystemdShim
internal import Glibc
import Synchronization

/// A running MCP server in its own scope: the handle a gateway holds.
///
/// When the server's main process ends, everything left in its scope (grandchildren, `setsid` escapees) is killed at
/// once and the scope is stopped; `wait()` returns after that. All methods may be called from many tasks at once.
/// The library reaps the server itself: a gateway must not `waitpid(-1)` its children.
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

    /// The last lines the server wrote to stderr, when stderr is relayed (`.relay(to:)`) or read through
    /// `standardErrorBytes()`.
    public let standardErrorTail = TailBuffer()

    let cgroup: Cgroup
    private let bus: SystemdBus
    private let guardrails: ServerGuardrails?
    private let started = ContinuousClock.now
    private let pidfd: Int32
    private let state = Mutex(State())

    private struct State {
        var termination: Termination?
        var waiters: [CheckedContinuation<Termination, Never>] = []
        var stopRequested = false
        /// The main process has been reaped (the termination follows once the scope is gone).
        var mainExited = false
        /// Whether the scope's cgroup still existed when the main process had exited.
        var scopeRemains = true
        /// The last usage read while the cgroup existed: the cgroup vanishes with the scope, often before the exit
        /// is seen, and an OOM kill empties it at once.
        var lastUsage: Usage?
        var eventDescriptors: [Int32] = []
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
        unit = launched.unit
        name = launched.name
        cgroup = launched.cgroup
        bus = launched.bus
        standardInput = launched.standardStreams[0]
        standardOutput = launched.standardStreams[1]
        standardError = launched.standardStreams[2]
        pidfd = launched.pidfd
        // Relaying starts before the exit is watched, so the end of a server waits for its last words.
        if let relay = launched.relayStandardErrorTo { startRelay(to: relay) }
        let reactor = Reactor.shared
        // The kernel flags memory.events and pids.events (EPOLLPRI) when an OOM kill or a refused fork is counted,
        // before the victims are gone: read them then, since the cgroup vanishes with the scope.
        for file in ["memory.events", "pids.events"] {
            guard let fd = cgroup.openForEvents(file) else { continue }
            state.withLock { $0.eventDescriptors.append(fd) }
            reactor.watch(fd, events: EPOLLPRI.rawValue | EPOLLET.rawValue) { [self] _ in
                let readable = FileText.read(descriptor: fd) != nil
                readUsage()
                return readable
            }
        }
        reactor.watch(pidfd, events: EPOLLIN.rawValue) { [self] _ in mainProcessExited() }
        if let guardrails {
            // Staying up for the minimum uptime is success: forget past failures then, not only at the exit.
            Task { [self] in
                try? await Task.sleep(for: guardrails.policy.minimumUptime)
                if termination == nil { guardrails.recordHealthy() }
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
        guard state.withLock({ $0.termination == nil }) else { return nil }
        return readUsage()
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
            try? await Task.sleep(for: grace)
            if self.termination == nil { _ = cgroup.kill() }
        }
        let termination = await wait()
        killer.cancel()
        return termination
    }

    // MARK: The end of a server

    func setRelay(_ task: Task<Void, Never>) { state.withLock { $0.relay = task } }

    /// Reads usage now and remembers it, keeping the highest counters and peak seen.
    @discardableResult
    private func readUsage() -> Usage? {
        guard let fresh = Usage(cgroup) else { return nil }
        return state.withLock { state in
            var usage = fresh
            if let last = state.lastUsage {
                usage.oomKills = max(usage.oomKills, last.oomKills)
                usage.tasksLimitHits = max(usage.tasksLimitHits, last.tasksLimitHits)
                usage.memoryPeak = max(usage.memoryPeak ?? 0, last.memoryPeak ?? 0)
            }
            state.lastUsage = usage
            return usage
        }
    }

    /// On the reactor thread: reap, read the counters while the cgroup still exists, kill what is left.
    private func mainProcessExited() -> Bool {
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        guard reaped == pid else { return reaped == 0 }
        readUsage()
        // A cgroup that is already gone means systemd has stopped the scope itself: nothing left to stop.
        let scopeRemains = cgroup.kill() || cgroup.read("cgroup.controllers") != nil
        state.withLock {
            $0.mainExited = true
            $0.scopeRemains = scopeRemains
        }
        let waitStatus: Termination.Status = status & 0x7F == 0
            ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
        Task { await self.finish(waitStatus) }
        return false
    }

    private func finish(_ status: Termination.Status) async {
        let uptime = ContinuousClock.now - started
        // The guardrails learn the outcome first, before any bus round trip: other starts of this server may be
        // waiting on it. stderr has drained by now (everything in the scope was killed).
        await state.withLock({ $0.relay })?.value
        if let guardrails {
            let outcome = Termination(status: status, reason: termination(of: status).reason, usage: nil)
            guardrails.recordExit(outcome, uptime: uptime, stderr: standardErrorTail.lastLines(20))
        }
        if state.withLock({ $0.scopeRemains }) { try? await bus.stopUnit(unit) }
        // A server killed by a signal may have died with its whole scope in an OOM kill that emptied the cgroup
        // before its counters could be read. systemd notices OOM kills before empty cgroups and keeps such a failed
        // scope with Result=oom-kill: ask it, then clear the failed unit.
        var systemdSaysOOM = false
        if case .signaled = status {
            let result = try? await bus.stringProperty("Result", interface: "org.freedesktop.systemd1.Scope", unit: unit)
            systemdSaysOOM = result == "oom-kill"
            if let result, result != "success" { try? await bus.resetFailedUnit(unit) }
        }
        let (termination, waiters, descriptors) = state.withLock { state in
            let termination = Self.termination(status, state: state, systemdSaysOOM: systemdSaysOOM)
            state.termination = termination
            close(pidfd)
            defer { state.waiters.removeAll(); state.eventDescriptors.removeAll() }
            return (termination, state.waiters, state.eventDescriptors)
        }
        for fd in descriptors {
            Reactor.shared.unwatch(fd)
            close(fd)
        }
        cgroup.close()
        guardrails?.recordGone(unit: unit)
        for waiter in waiters { waiter.resume(returning: termination) }
    }

    /// The termination as far as is known now.
    private func termination(of status: Termination.Status) -> Termination {
        state.withLock { Self.termination(status, state: $0, systemdSaysOOM: false) }
    }

    /// How the server ended: an OOM kill (seen in its counters or by systemd) or a hit tasks limit explain it
    /// first, then a stop that was asked for.
    private static func termination(_ status: Termination.Status, state: State, systemdSaysOOM: Bool) -> Termination {
        var usage = state.lastUsage
        if systemdSaysOOM, usage != nil, usage!.oomKills == 0 { usage!.oomKills = 1 }
        let reason: Termination.Reason =
            systemdSaysOOM || (usage?.oomKills ?? 0) > 0 ? .oomKilled
            : (usage?.tasksLimitHits ?? 0) > 0 ? .tasksLimit : state.stopRequested ? .stopped : .exited
        return Termination(status: status, reason: reason, usage: usage)
    }
}

extension ServerProcess {
    /// Replaces this process with the server, inside its own scope with its limits, no_new_privs and seccomp (what
    /// `corral run --exec` and `systemd-run --scope` do): nothing stays resident. Returns only by throwing.
    public static func exec(_ configuration: ServerConfiguration) async throws(CorralError) -> Never {
        try await Spawner(configuration).execInPlace()
    }
}
