/// How Corral bounds a caller that retries a failing server forever: backoff, a circuit breaker, an instance cap.
public struct GuardrailPolicy: Sendable, Equatable {
    /// Any exit (with status 0 too, or by a signal) sooner than this after the start is a fast failure, unless a
    /// stop was asked for. Staying up this long resets the failure count and closes the breaker.
    public var minimumUptime: Duration = .seconds(10)
    /// The delay after the first fast failure; it doubles with each further one.
    public var backoffInitial: Duration = .seconds(1)
    /// The longest delay backoff imposes.
    public var backoffMaximum: Duration = .seconds(300)
    /// Random spread of each delay, as a fraction (0.2 is +-20 %), so callers do not retry in lockstep.
    public var jitter: Double = 0.2
    /// Consecutive fast failures that open the circuit breaker.
    public var breakerThreshold: Int = 3
    /// How long an open breaker refuses every start before it lets one probe through (half-open).
    public var breakerOpen: Duration = .seconds(600)
    /// How long, after a server not known to be healthy has started, other starts of it wait for its outcome.
    public var probation: Duration = .seconds(3)
    /// Instances of one server name that may run at once.
    public var maximumInstances: Int = 16

    public init() {}

    /// The delay after `failures` consecutive fast failures, before jitter: initial * 2^(failures-1), capped.
    public func backoff(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var delay = backoffInitial
        for _ in 1..<min(failures, 63) where delay < backoffMaximum { delay *= 2 }
        return min(delay, backoffMaximum)
    }
}
