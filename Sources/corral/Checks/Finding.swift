import Corral

/// One result of `corral doctor`.
struct Finding {
    enum Severity: String, Comparable {
        case ok, info, warning, severe
        static func < (a: Severity, b: Severity) -> Bool {
            let order: [Severity] = [.ok, .info, .warning, .severe]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }

    /// A stable identifier, e.g. "gateway-memory-max".
    var id: String
    var severity: Severity
    var title: String
    /// What was read, e.g. "MemoryMax=infinity".
    var evidence: String
    /// The exact fix: a command or a drop-in; empty when nothing is to be done.
    var fix: String = ""

    var text: String {
        var out = "[\(severity.rawValue.uppercased())] \(title)\n    read: \(evidence)\n"
        if !fix.isEmpty { out += "    fix:\n" + fix.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n") + "\n" }
        return out
    }

    var json: JSON {
        .object([.init("id", .string(id)), .init("severity", .string(severity.rawValue)), .init("title", .string(title)),
                 .init("evidence", .string(evidence)), .init("fix", .string(fix))])
    }
}
