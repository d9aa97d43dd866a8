/// Prometheus' text exposition format, version 0.0.4: per metric family a `# HELP` and a `# TYPE` line, then its
/// samples, one per line, as `name{label="value",...} value`.
package struct Exposition: Sendable {
    /// The metric types Corral exports.
    package enum Kind: String, Sendable {
        case gauge, counter
    }

    /// A sample's value, written the way Prometheus parses it.
    package enum Value: Sendable, Equatable {
        case integer(UInt64)
        /// Infinity (an unlimited limit) is written `+Inf`, not-a-number `NaN`.
        case real(Double)
    }

    /// One line of a family: its labels, in order, and its value.
    package struct Sample: Sendable {
        package var labels: [(name: String, value: String)]
        package var value: Value

        package init(_ labels: [(name: String, value: String)], _ value: Value) {
            self.labels = labels
            self.value = value
        }
    }

    /// Everything added so far.
    package private(set) var text = ""

    package init() {}

    /// Adds one metric family. A family without samples is left out: the format allows it, but it says nothing.
    package mutating func add(_ name: String, _ kind: Kind, help: String, samples: [Sample]) {
        guard !samples.isEmpty else { return }
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        for sample in samples {
            text += name
            if !sample.labels.isEmpty {
                text += "{" + sample.labels.map { "\($0.name)=\"\(Self.escapeLabel($0.value))\"" }.joined(separator: ",") + "}"
            }
            text += " " + Self.format(sample.value) + "\n"
        }
    }

    /// A label value with `\`, `"` and newline escaped as `\\`, `\"` and `\n`.
    package static func escapeLabel(_ value: String) -> String { escape(value, quotes: true) }

    /// Help text with `\` and newline escaped; quotes stay as they are in a `# HELP` line.
    package static func escapeHelp(_ help: String) -> String { escape(help, quotes: false) }

    /// By scalar, not by character: "\r\n" is one Character, and its newline must be escaped too.
    private static func escape(_ text: String, quotes: Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\".unicodeScalars
            case "\n": out += "\\n".unicodeScalars
            case "\"" where quotes: out += "\\\"".unicodeScalars
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    package static func format(_ value: Value) -> String {
        switch value {
        case .integer(let number): String(number)
        case .real(let number): number.isFinite ? String(number) : (number.isNaN ? "NaN" : (number > 0 ? "+Inf" : "-Inf"))
        }
    }
}
