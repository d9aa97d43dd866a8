/// The guardrails as one start of one server passes through them: admitted (or refused) before anything is forked,
/// recorded as running once it runs, and told its outcome when it ends. `Spawner` and `ServerProcess` hold one each;
/// all guardrail decisions and records go through here.
package struct ServerGuardrails: Sendable {
    package let store: StateStore
    package let policy: GuardrailPolicy
    package let name: ServerName

    package init(store: StateStore, policy: GuardrailPolicy, name: ServerName) {
        self.store = store
        self.policy = policy
        self.name = name
    }

    /// A start let through, holding the server's record locked until `release()`, so that concurrent starts of one
    /// server decide one after another.
    package final class Admission {
        private let record: LockedServerState
        /// Whether this start is the probe of a server on trial (its probation counts from its exec).
        private let isProbe: Bool
        private let policy: GuardrailPolicy

        fileprivate init(record: LockedServerState, isProbe: Bool, policy: GuardrailPolicy) {
            self.record = record
            self.isProbe = isProbe
            self.policy = policy
        }

        /// The server has exec'd: a probe's probation counts from now, not from its admission (under load a spawn
        /// can take longer than the probation itself).
        package func ran() {
            guard isProbe else { return }
            record.state.probationUntil = UnixTime.now + policy.probation.seconds
            record.save()
        }

        /// The start failed before the server ran (the exec failed, systemd refused the scope): no record is left
        /// of a server that had none.
        package func abandon() {
            record.discardIfNew()
            record.release()
        }

        /// Unlocks the record for the next start.
        package func release() { record.release() }
    }

    /// Refuses at once (no spawn, no scope) a start that backoff, the breaker or the instance cap forbids; otherwise
    /// returns the admission.
    package func admit() async throws(CorralError) -> Admission {
        while true {
            let record = try store.lock(name)
            let now = UnixTime.now
            let probation = record.state.probationUntil
            if let refusal = record.state.admit(now: now, policy: policy) {
                guard refusal.reason == .probation else {
                    throw GuardrailMessage.refused(name, refusal, record.state, now: now)
                }
                // Another start of this unproven server is on probation: wait (briefly) for its outcome.
                record.release()
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let live = store.runningInstances(of: name)
            if live >= policy.maximumInstances {
                throw GuardrailMessage.refused(name, Refusal(reason: .instanceCap, until: 0), record.state, now: now,
                                               instances: live)
            }
            record.save()
            return Admission(record: record, isProbe: record.state.probationUntil != probation, policy: policy)
        }
    }

    /// Records a running instance of this server, for the instance cap and listings.
    package func recordRunning(unit: String, monitorPID: Int32, mainPID: Int32) {
        store.recordInstance(InstanceRecord(unit: unit, name: name.rawValue, monitorPID: monitorPID, mainPID: mainPID,
                                            startedAt: UnixTime.now))
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
        record.state.recordExit(termination, uptime: uptime, stderr: stderr, now: UnixTime.now, policy: policy,
                                jitter: .random(in: -1...1))
        record.save()
    }

    /// Forgets the instance once its scope is gone.
    package func recordGone(unit: String) { store.removeInstance(unit: unit) }
}
