internal import Glibc

/// Seconds since boot on CLOCK_BOOTTIME: the clock of every deadline and start time in guardrail state. It counts
/// suspended time and is never stepped (unlike the wall clock, which NTP or an administrator may set back by hours),
/// and the state lives in per-boot /run, so its times never outlive the clock they were taken on.
package enum BootTime {
    package static var now: Double { read(CLOCK_BOOTTIME) }

    /// The wall-clock Unix time of a boot time, for messages ("until 14:03:27").
    package static func wallClock(_ time: Double) -> Double { time + wallClockOffset }

    /// Wall-clock Unix time less boot time, now: what converts one clock to the other (records of the first
    /// format held wall-clock times).
    package static var wallClockOffset: Double { read(CLOCK_REALTIME) - read(CLOCK_BOOTTIME) }

    private static func read(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Times as people read them.
package enum UnixTime {
    /// "14:03:27" in local time, for a wall-clock Unix time.
    package static func clockTime(_ time: Double) -> String {
        var seconds = time_t(representable(time))
        var parts = tm()
        localtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }

    /// "4s", "2m 5s", "1h 3m".
    package static func span(_ seconds: Double) -> String {
        let total = Int(max(0, representable(seconds).rounded(.up)))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m \(total % 60)s" }
        return "\(total / 3600)h \(total % 3600 / 60)m"
    }

    /// `time` within what an integer time_t can hold: times come from state files, which a corrupt or hand-edited
    /// record can fill with 1e300 or inf. Beyond a billion years nothing is worth telling apart.
    private static func representable(_ time: Double) -> Double {
        let limit = 3.2e16
        guard !time.isNaN else { return 0 }
        return min(max(time, -limit), limit)
    }
}
