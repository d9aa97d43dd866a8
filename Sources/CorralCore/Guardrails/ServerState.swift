/// What Corral remembers about one server between invocations: its failures, backoff and breaker, and how it last
/// ended. Stored as small `key=value` text (see `StateStore`); anything unreadable resets to a fresh state. Its times
/// are boot times (seconds since boot, see `BootTime`): a step of the wall clock changes no deadline.
public struct ServerState: Sendable, Equatable {
    /// The circuit breaker's position.
    public enum Breaker: String, Sendable, Equatable {
        /// Starts are allowed (subject to backoff).
        case closed
        /// Starts are refused until `breakerUntil`.
        case open
        /// One probe start is running; others are refused until it proves itself or fails.
        case halfOpen = "half-open"
    }

    public var consecutiveFailures = 0
    /// Starts that were let through, over the state's life.
    public var starts = 0
    /// Boot time before which a start is refused because of backoff.
    public var nextStartAt: Double = 0
    public var breaker = Breaker.closed
    /// Boot time when an open breaker lets one probe through.
    public var breakerUntil: Double = 0
    /// How the last run ended ("exited with status 1").
    public var lastExit = ""
    public var lastExitAt: Double = 0
    /// The last lines of the last failed run's stderr.
    public var lastStderr: [String] = []
    /// Whether the server has ever stayed up for the minimum uptime (since the state was created).
    public var proven = false
    /// Boot time until which the last start of a server on trial is on probation: concurrent starts wait for it.
    public var probationUntil: Double = 0
    /// The process spawning the probe that set the probation, from its admission until the probe exec'd: the
    /// probation, which counts from the exec, has not begun, however long the spawn takes. Forgotten once that
    /// process is gone (killed before the exec).
    public var startingProbe: ProcessIdentity?

    public init() {}

    /// Bounded text: at most 20 stderr lines of 300 characters.
    package var text: String {
        var lines = [
            "version=2", "consecutive_failures=\(consecutiveFailures)", "starts=\(starts)",
            "next_start_at=\(nextStartAt)", "breaker=\(breaker.rawValue)", "breaker_until=\(breakerUntil)",
            "last_exit=\(Self.escape(lastExit))", "last_exit_at=\(lastExitAt)", "proven=\(proven ? 1 : 0)",
            "probation_until=\(probationUntil)",
        ]
        // Only while a probe is being spawned: a record without it stays readable to corrals that predate it.
        if let probe = startingProbe { lines.append("probe_starting=\(probe.pid):\(probe.startTicks ?? 0)") }
        lines += lastStderr.suffix(20).map { "stderr=" + Self.escape(String($0.prefix(300))) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses stored text; nil when it is not a complete, valid record (corrupt or truncated) or of an unknown
    /// version. Version 1 held wall-clock times: `wallClockOffset` (wall clock less boot time) converts them.
    package init?(text: String, wallClockOffset: Double = BootTime.wallClockOffset) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.first == "version=1" || lines.first == "version=2", text.hasSuffix("\n") else { return nil }
        var state = ServerState()
        var seen = Set<String>()
        for line in lines.dropFirst() {
            guard let equals = line.firstIndex(of: "=") else { return nil }
            let key = String(line[..<equals])
            let value = String(line[line.index(after: equals)...])
            seen.insert(key)
            switch key {
            case "consecutive_failures": guard let v = Self.count(value) else { return nil }; state.consecutiveFailures = v
            case "starts": guard let v = Self.count(value) else { return nil }; state.starts = v
            case "next_start_at": guard let v = Double(value), v.isFinite else { return nil }; state.nextStartAt = v
            case "breaker": guard let v = Breaker(rawValue: value) else { return nil }; state.breaker = v
            case "breaker_until": guard let v = Double(value), v.isFinite else { return nil }; state.breakerUntil = v
            case "last_exit": state.lastExit = Self.unescape(value)
            case "last_exit_at": guard let v = Double(value), v.isFinite else { return nil }; state.lastExitAt = v
            case "stderr": state.lastStderr.append(Self.unescape(value))
            case "proven": guard value == "0" || value == "1" else { return nil }; state.proven = value == "1"
            case "probation_until": guard let v = Double(value), v.isFinite else { return nil }; state.probationUntil = v
            case "probe_starting":
                let parts = value.split(separator: ":")
                guard parts.count == 2, let pid = Int32(parts[0]), let ticks = UInt64(parts[1]) else { return nil }
                state.startingProbe = ProcessIdentity(pid: pid, startTicks: ticks)
            default: return nil
            }
        }
        guard seen.isSuperset(of: ["consecutive_failures", "starts", "next_start_at", "breaker", "breaker_until"]) else {
            return nil
        }
        if lines.first == "version=1" {
            for time in [\Self.nextStartAt, \.breakerUntil, \.lastExitAt, \.probationUntil] where state[keyPath: time] != 0 {
                state[keyPath: time] -= wallClockOffset
            }
        }
        self = state
    }

    /// A count as stored: not negative, and far enough below Int.max that counting on never overflows.
    private static func count(_ text: String) -> Int? {
        guard let value = Int(text), (0...Int(Int32.max)).contains(value) else { return nil }
        return value
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(c)
            }
        }
        return out
    }

    private static func unescape(_ text: String) -> String {
        var out = ""
        var escaping = false
        for c in text {
            if escaping {
                out.append(c == "n" ? "\n" : c == "r" ? "\r" : c)
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}
