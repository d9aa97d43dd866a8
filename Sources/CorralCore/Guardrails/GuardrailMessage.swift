/// The one message a refused start prints: which server, why, since when, what it said last, and what to do.
enum GuardrailMessage {
    /// `now` and the state's times are boot times (see `BootTime`); the message tells wall-clock times.
    static func refused(_ name: ServerName, _ refusal: Refusal, _ state: ServerState, now: Double,
                        instances: Int = 0) -> CorralError {
        var text = "refusing to start server '\(name)': "
        let failures = "it failed \(state.consecutiveFailures) time(s) in a row soon after starting"
        let last = state.lastExit.isEmpty ? "" : " (last: it \(state.lastExit), \(UnixTime.span(now - state.lastExitAt)) ago)"
        let when = "until \(UnixTime.clockTime(BootTime.wallClock(refusal.until))) (in \(UnixTime.span(refusal.until - now)))"
        switch refusal.reason {
        case .backoff:
            text += "\(failures)\(last); backing off \(when)."
        case .breakerOpen:
            text += "\(failures)\(last); its circuit breaker is open \(when), then one probe start is allowed."
        case .probation:
            text += "another start of it is still on probation \(when)."
        case .probeRunning:
            text += "a probe start is running after repeated failures\(last); other starts wait \(when) for its outcome."
        case .instanceCap:
            text += "\(instances) instance(s) are running, as many as --max-instances allows. Stop one with `corral stop \(name)` or raise --max-instances."
        }
        if refusal.reason != .instanceCap {
            if !state.lastStderr.isEmpty {
                text += "\nIts last stderr lines:\n" + state.lastStderr.suffix(5).map { "  " + $0 }.joined(separator: "\n")
            }
            text += "\nFix its configuration, then `corral reset \(name.rawValue)` allows a start at once."
        }
        return CorralError(.refused, text, stage: "guardrails")
    }
}
