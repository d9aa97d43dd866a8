/// The guardrails as one start of one server passes through them: admitted (or refused) before anything is forked,
/// recorded as running once it runs, and told its outcome when it ends. `Spawner` and `ServerProcess` hold one each;
/// all guardrail decisions and records go through here.
///
/// Every decision locks the server's record for a read, a decision and a write only, never across an await: starts
/// of one server still decide one after another, across processes too, and no task waits for a lock that a
/// suspended task holds (with as many waiters as pool threads, the holder could never resume).
package struct ServerGuardrails: Sendable {
    package let store: StateStore
    package let policy: GuardrailPolicy
    package let name: ServerName
    /// This start's place among the instances, from its admission until its scope is recorded.
    private var reservation: String?
    /// The scope's cgroup (below /sys/fs/cgroup), once it exists.
    private var cgroup: String?

    package init(store: StateStore, policy: GuardrailPolicy, name: ServerName) {
        self.store = store
        self.policy = policy
        self.name = name
    }

    /// A start let through: it holds a place under the instance cap, and, when it is a probe, the probation that
    /// other starts of the server wait out.
    package final class Admission: Sendable {
        private let guardrails: ServerGuardrails
        /// Whether this start is the probe of a server on trial (its probation counts from its exec).
        private let isProbe: Bool
        /// The record as this admission created it; nil when there was one before.
        private let created: String?

        fileprivate init(guardrails: ServerGuardrails, isProbe: Bool, created: String?) {
            self.guardrails = guardrails
            self.isProbe = isProbe
            self.created = created
        }

        /// The guardrails for the rest of this start's life, once its scope (`cgroup`, below /sys/fs/cgroup)
        /// exists: their `recordRunning` takes over the place this admission reserved.
        package func launched(in cgroup: String) -> ServerGuardrails {
            var launched = guardrails
            launched.cgroup = cgroup
            return launched
        }

        /// The server has exec'd: a probe's probation counts from now, not from its admission (under load a spawn
        /// can take longer than the probation itself).
        package func ran() {
            guard isProbe, let record = try? guardrails.store.lock(guardrails.name) else { return }
            record.state.probationUntil = BootTime.now + guardrails.policy.probation.seconds
            record.state.startingProbe = nil
            record.save()
        }

        /// The start failed before the server ran (the exec failed, systemd refused the scope): its place is given
        /// back, no record is left of a server that had none, and other starts need not wait out its probation.
        package func abandon() {
            guardrails.dropReservation()
            guard let record = try? guardrails.store.lock(guardrails.name) else { return }
            if let created, record.state.text == created {
                record.remove()
            } else if isProbe {
                record.state.probationUntil = 0
                record.state.startingProbe = nil
                record.save()
            }
        }
    }

    /// Refuses at once (no spawn, no scope) a start that backoff, the breaker or the instance cap forbids; otherwise
    /// returns the admission. While another start of an unproven server is on probation this waits for its outcome,
    /// polling its record (another process may decide it, and nothing tells of that), for at most twice the
    /// probation: once for a probe still being spawned, once for the probation after its exec. Then it refuses.
    package func admit() async throws(CorralError) -> Admission {
        let patience = BootTime.now + 2 * policy.probation.seconds
        while true {
            let record = try store.lock(name)
            let now = BootTime.now
            let (instances, outcomePending) = countInstances(record, now: now)
            let probation = record.state.probationUntil
            var decided = record.state
            // A server on trial whose last start has not told its outcome yet (still being spawned, its probe not
            // exec'd yet, or exited and not yet recorded by its monitor) is still on probation, however long that
            // takes on a busy host: otherwise every waiting start would go ahead once the probation's time ran out.
            let pending = (outcomePending || decided.startingProbe != nil) && decided.isOnTrial
                ? Refusal(reason: .probation, until: now + 1) : nil
            if let refusal = pending ?? decided.admit(now: now, policy: policy) {
                record.save()
                record.release()
                guard refusal.reason == .probation, now < patience else {
                    throw GuardrailMessage.refused(name, refusal, record.state, now: now)
                }
                do {
                    try await Task.sleep(for: .milliseconds(100))
                } catch {
                    throw GuardrailMessage.refused(name, refusal, record.state, now: now)
                }
                continue
            }
            guard instances < policy.maximumInstances else {
                record.save()
                throw GuardrailMessage.refused(name, Refusal(reason: .instanceCap, until: 0), record.state, now: now,
                                               instances: instances)
            }
            let isProbe = decided.probationUntil != probation
            if isProbe { decided.startingProbe = .current }
            record.state = decided
            record.save()
            // Reserved before the lock goes: another start must never find neither this reservation nor a record
            // (it would end this probe's probation and start a second probe).
            var admitted = self
            admitted.reservation = store.reserveInstance(of: name)
            record.release()
            return Admission(guardrails: admitted, isProbe: isProbe,
                             created: record.isNew ? decided.text : nil)
        }
    }

    /// The instances of this server that count against the cap, learning on the way what the record does not know
    /// yet: an `--exec` instance found gone within the minimum uptime of its start was a fast failure (its exit
    /// status is unknown: no corral stayed to see it), one found still running past it is healthy. One found gone
    /// later tells nothing (it may have failed at once and been found late), and neither does a killed monitor's.
    /// A probation with no start left to end it (its monitor was killed) is over: nobody waits for it. Also tells
    /// whether a start's outcome is pending: one is being spawned (a reservation), or its main process has ended and
    /// its live monitor has not recorded how yet.
    private func countInstances(_ record: LockedServerState, now: Double) -> (count: Int, outcomePending: Bool) {
        let (running, reserved, ended) = store.census(of: name)
        for instance in ended where instance.monitor == nil {
            let lived = now - instance.startedAt
            guard lived < policy.minimumUptime.seconds else { continue }
            record.state.recordFastFailure("ended within \(UnixTime.span(lived)) of starting, status unknown under --exec",
                                           stderr: [], now: now, policy: policy, jitter: .random(in: -1...1))
        }
        let upLongEnough = { (instance: InstanceRecord) in
            instance.monitor == nil && instance.main.isRunning && now - instance.startedAt >= policy.minimumUptime.seconds
        }
        if running.contains(where: upLongEnough) { record.state.recordHealthy() }
        if reserved == 0 && !running.contains(where: \.isWatched) {
            record.state.probationUntil = 0
            record.state.startingProbe = nil
        }
        if let probe = record.state.startingProbe, !probe.isRunning { record.state.startingProbe = nil }
        let unrecordedEnd = running.contains { $0.monitor != nil && $0.isWatched && !$0.main.isRunning }
        return (running.count + reserved, reserved > 0 || unrecordedEnd)
    }

    /// Records a running instance of this server, for the instance cap and listings; it takes the place that the
    /// admission reserved. Each process is recorded with its start time, so that a recycled PID is never taken for
    /// it (a process that is already gone is recorded without).
    package func recordRunning(unit: String, monitorPID: Int32, mainPID: Int32) {
        func identity(_ pid: Int32) -> ProcessIdentity { .running(pid) ?? ProcessIdentity(pid: pid, startTicks: nil) }
        store.recordInstance(InstanceRecord(unit: unit, name: name.rawValue, monitor: monitorPID == 0 ? nil : identity(monitorPID),
                                            main: identity(mainPID), cgroup: cgroup, startedAt: BootTime.now))
        dropReservation()
    }

    private func dropReservation() {
        if let reservation { store.removeReservation(reservation) }
    }

    /// The server stayed up for the minimum uptime: its past failures are forgotten.
    package func recordHealthy() {
        guard let record = try? store.lock(name) else { return }
        record.state.recordHealthy()
        record.save()
    }

    /// Records how a run ended (see `ServerState.recordExit`).
    package func recordExit(_ termination: Termination, uptime: Duration, stderr: [String]) {
        guard let record = try? store.lock(name) else { return }
        record.state.recordExit(termination, uptime: uptime, stderr: stderr, now: BootTime.now, policy: policy,
                                jitter: .random(in: -1...1))
        record.save()
    }

    /// Forgets the instance once its scope is gone.
    package func recordGone(unit: String) { store.removeInstance(unit: unit) }
}
