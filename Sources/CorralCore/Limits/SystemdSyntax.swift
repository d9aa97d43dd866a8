/// Parsers for values written the way systemd writes them in unit files and `systemd-run -p`.
enum SystemdSyntax {
    /// A size in bytes: a decimal number with an optional binary suffix (K, M, G, T, P, E; B for bytes), as
    /// systemd's parse_size with base 1024. "1.5G" and "512 M" are accepted, "1g" and "-1" are not.
    static func bytes(_ text: String) -> UInt64? {
        let trimmed = text.trimmingWhitespace(lines: false)
        var digits = Substring(trimmed)
        var multiplier: UInt64 = 1
        let suffixes: [(Character, UInt64)] = [
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40), ("P", 1 << 50), ("E", 1 << 60), ("B", 1),
        ]
        if let last = digits.last, let match = suffixes.first(where: { $0.0 == last }) {
            multiplier = match.1
            digits = digits.dropLast()
            while digits.last == " " { digits = digits.dropLast() }
        }
        return decimal(digits, scaledBy: multiplier)
    }

    /// A percentage with up to two decimals ("50%", "12.5%"), in permyriad (1/10000). `limit` caps it (100% for
    /// memory, none for CPU quota).
    static func permyriad(_ text: String, limit: UInt64? = 10_000) -> UInt64? {
        let trimmed = text.trimmingWhitespace(lines: false)
        guard trimmed.hasSuffix("%") else { return nil }
        let fraction = trimmed.dropLast().split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first
        guard (fraction?.count ?? 0) <= 2 else { return nil }
        guard let value = decimal(trimmed.dropLast(), scaledBy: 100) else { return nil }
        if let limit, value > limit { return nil }
        return value
    }

    /// A time span such as "30s", "5min", "1h 30min" or "2.5s" (a bare number is seconds), in microseconds;
    /// "infinity" is UInt64.max.
    static func microseconds(_ text: String) -> UInt64? {
        let trimmed = text.trimmingWhitespace(lines: false)
        if trimmed == "infinity" { return .max }
        let units: [(String, UInt64)] = [
            ("usec", 1), ("us", 1), ("µs", 1), ("msec", 1_000), ("ms", 1_000),
            ("seconds", 1_000_000), ("second", 1_000_000), ("sec", 1_000_000), ("s", 1_000_000),
            ("minutes", 60_000_000), ("minute", 60_000_000), ("min", 60_000_000), ("m", 60_000_000),
            ("hours", 3_600_000_000), ("hour", 3_600_000_000), ("hr", 3_600_000_000), ("h", 3_600_000_000),
            ("days", 86_400_000_000), ("day", 86_400_000_000), ("d", 86_400_000_000),
            ("weeks", 604_800_000_000), ("week", 604_800_000_000), ("w", 604_800_000_000),
        ]
        var rest = Substring(trimmed)
        var total: UInt64 = 0
        var parts = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            while rest.first == " " { rest = rest.dropFirst() }
            let word = rest.prefix { $0.isLetter || $0 == "µ" }
            rest = rest.dropFirst(word.count)
            while rest.first == " " { rest = rest.dropFirst() }
            guard !number.isEmpty else { return nil }
            let scale: UInt64
            if word.isEmpty {
                scale = 1_000_000
            } else if let unit = units.first(where: { $0.0 == word }) {
                scale = unit.1
            } else {
                return nil
            }
            guard let value = decimal(number, scaledBy: scale) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(value)
            guard !overflow else { return nil }
            total = sum
            parts += 1
        }
        return parts > 0 ? total : nil
    }

    /// A boolean as systemd spells it.
    static func bool(_ text: String) -> Bool? {
        switch text.trimmingWhitespace(lines: false).lowercased() {
        case "1", "yes", "y", "true", "t", "on": true
        case "0", "no", "n", "false", "f", "off": false
        default: nil
        }
    }

    /// A non-negative decimal ("12", "1.5") multiplied by `scale`, refusing overflow and empty input.
    static func decimal(_ text: Substring, scaledBy scale: UInt64) -> UInt64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              let integer = UInt64(whole)
        else { return nil }
        let (scaled, overflow) = integer.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        guard parts.count == 2 else { return scaled }
        let fraction = parts[1]
        guard !fraction.isEmpty, fraction.count <= 9, fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
              let numerator = UInt64(fraction)
        else { return nil }
        var denominator: UInt64 = 1
        for _ in fraction { denominator *= 10 }
        // scale * numerator / denominator without overflow (numerator < denominator <= 10^9).
        let part = scale / denominator * numerator + (scale % denominator) * numerator / denominator
        let (sum, overflowed) = scaled.addingReportingOverflow(part)
        return overflowed ? nil : sum
    }
}
