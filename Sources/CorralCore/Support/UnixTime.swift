internal import Glibc

/// Wall-clock time as Unix seconds, for state that must make sense across processes.
package enum UnixTime {
    package static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// "14:03:27" in local time.
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
