internal import CSystemdShim
internal import Glibc

/// Lifecycle events in the journal, as structured entries an operator can filter:
/// `journalctl CORRAL_SERVER=time`, `journalctl CORRAL_EVENT=oom-kill`.
public enum Journal {
    /// What happened to a server.
    public enum Event: String, Sendable {
        case start, exit, oomKill = "oom-kill", tasksLimit = "tasks-limit", refused, threshold
        /// Something worth an operator's attention that is not an error: a weaker containment than Corral's
        /// whole one, an option that weakens it, a reset state file.
        case warning
    }

    /// syslog priorities.
    public enum Priority: Int, Sendable {
        case error = 3, warning = 4, notice = 5, info = 6
    }

    /// Whether a journal is there to write to (/run/systemd/journal/socket).
    public static var isAvailable: Bool { access("/run/systemd/journal/socket", W_OK) == 0 }

    /// Sends an entry with CORRAL_EVENT, CORRAL_SERVER, CORRAL_UNIT (when known) and any further `fields`
    /// (names in upper case, as the journal wants them). Returns whether the journal took it.
    @discardableResult
    public static func send(_ event: Event, server: String, unit: String? = nil, priority: Priority = .info,
                            message: String, fields: [String: String] = [:]) -> Bool {
        guard isAvailable else { return false }
        var entries = ["MESSAGE=\(message)", "PRIORITY=\(priority.rawValue)", "SYSLOG_IDENTIFIER=corral",
                       "CORRAL_EVENT=\(event.rawValue)", "CORRAL_SERVER=\(server)"]
        if let unit { entries.append("CORRAL_UNIT=\(unit)") }
        entries += fields.sorted { $0.key < $1.key }.map { "CORRAL_\($0.key)=\($0.value)" }
        return send(entries: entries)
    }

    /// Sends one entry made of `NAME=value` fields (MESSAGE= among them). Returns whether the journal took it.
    @discardableResult
    public static func send(entries: [String]) -> Bool {
        guard isAvailable else { return false }
        let copies = CStringArray(entries)
        return withExtendedLifetime(copies) { cs_journal_send(copies.constPointers, entries.count) >= 0 }
    }

    /// `name` made a valid journal field name: upper case letters, digits and underscores, not starting with an
    /// underscore or a digit (those are the journal's own), at most 64 characters.
    public static func fieldName(_ name: String) -> String {
        var field = String(name.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        while field.first == "_" { field.removeFirst() }
        if field.first?.isNumber ?? true { field = "F" + field }
        return String(field.prefix(64))
    }
}
