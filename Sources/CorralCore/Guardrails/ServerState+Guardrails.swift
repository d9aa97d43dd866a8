/// Why a start was refused, and until when.
public struct Refusal: Sendable, Equatable {
    public enum Reason: String, Sendable, Equatable {
        /// The first start of a server never seen healthy is still on probation: wait for its outcome.
        case probation
        case backoff
        case breakerOpen = "circuit breaker open"
        case probeRunning = "a probe start is running"
        case instanceCap = "instance cap"
    }
    public var reason: Reason
    /// Boot time (see `BootTime`) after which a start may be tried again (0 for the instance cap: when an instance
    /// ends).
    public var until: Double
}

extension ServerState {
    /// Decides whether a start may go ahead at `now` (boot time). Letting a probe through an expired open
    /// breaker moves it to half-open; any start counts in `starts`.
    public mutating func admit(now: Double, policy: GuardrailPolicy) -> Refusal? {
        switch breaker {
        case .open where now < breakerUntil:
            return Refusal(reason: .breakerOpen, until: breakerUntil)
        case .halfOpen where now < breakerUntil:
            return Refusal(reason: .probeRunning, until: breakerUntil)
        case .open, .halfOpen:
            // The probe: one start, which must stay up for the minimum uptime to close the breaker. If its
            // outcome is never recorded (its monitor was killed), another probe is allowed after this window.
            breaker = .halfOpen
            breakerUntil = now + policy.minimumUptime.seconds + 60
        case .closed:
            if now < nextStartAt { return Refusal(reason: .backoff, until: nextStartAt) }
            if isOnTrial && now < probationUntil {
                return Refusal(reason: .probation, until: probationUntil)
            }
        }
        // For a server not known to be healthy, the first start (and the first after each failure) is a probe:
        // others wait out its probation, so nine agents retrying a broken server at once cost one spawn, not nine.
        // Once a probe has survived its probation, starts go ahead freely until the next failure.
        if isOnTrial && probationUntil == 0 { probationUntil = now + policy.probation.seconds }
        starts += 1
        return nil
    }

    /// Never seen healthy, or failing since.
    public var isOnTrial: Bool { !proven || consecutiveFailures > 0 }

    /// Records how a run ended. Any end sooner than the minimum uptime is a fast failure (see
    /// `recordFastFailure`), an exit with status 0 too: a server that exits at once every time is a crash loop
    /// whatever its status. A later end clears the failures. A stop that Corral was asked for changes nothing.
    public mutating func recordExit(_ termination: Termination, uptime: Duration, stderr: [String], now: Double,
                                    policy: GuardrailPolicy, jitter: Double) {
        lastExit = termination.description
        lastExitAt = now
        if termination.reason == .stopped {
            probationUntil = 0  // the probe's outcome is unknown: the next start probes again
            startingProbe = nil
            return
        }
        guard uptime < policy.minimumUptime else {
            recordHealthy()
            return
        }
        recordFastFailure(termination.description, stderr: stderr, now: now, policy: policy, jitter: jitter)
    }

    /// Records a fast failure, described as "exited with status 1": it adds to the count, sets the backoff delay
    /// (with `jitter` in -1...1) and may open the breaker.
    public mutating func recordFastFailure(_ description: String, stderr: [String], now: Double, policy: GuardrailPolicy,
                                           jitter: Double) {
        lastExit = description
        lastExitAt = now
        consecutiveFailures += 1
        probationUntil = 0
        startingProbe = nil
        lastStderr = Array(stderr.suffix(20))
        let delay = policy.backoff(afterFailures: consecutiveFailures).seconds * (1 + policy.jitter * max(-1, min(1, jitter)))
        nextStartAt = now + delay
        if breaker == .halfOpen || consecutiveFailures >= policy.breakerThreshold {
            breaker = .open
            breakerUntil = now + policy.breakerOpen.seconds
        }
    }

    /// The server stayed up long enough: failures are forgotten and the breaker closes.
    public mutating func recordHealthy() {
        proven = true
        probationUntil = 0
        startingProbe = nil
        consecutiveFailures = 0
        nextStartAt = 0
        breaker = .closed
        breakerUntil = 0
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    package var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
