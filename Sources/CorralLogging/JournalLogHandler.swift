internal import Corral
public import Logging
internal import Glibc

/// A swift-log handler that writes structured journal entries (sd_journal_sendv), or lines on stderr where there is
/// no journal: `LoggingSystem.bootstrap(JournalLogHandler.init)`. Metadata become journal fields (`server` becomes
/// SERVER); the label is the SYSLOG_IDENTIFIER. A `Logger.log(_:)` of a `ServerEvent` gives the very entries
/// `corral run` writes (CORRAL_EVENT, CORRAL_SERVER, CORRAL_UNIT, ...).
public struct JournalLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String) {
        self.label = label
    }

    public init(label: String, metadataProvider: Logger.MetadataProvider?) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let given = event.metadata { merged.merge(given) { $1 } }
        let entries = Self.entries(label: label, level: event.level, message: "\(event.message)", metadata: merged,
                                   file: event.file, function: event.function, line: event.line)
        if Journal.send(entries: entries) { return }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(label): \(event.level): \(event.message)" + (fields.isEmpty ? "" : " [\(fields)]") + "\n"
        _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }

    /// The journal fields of one log call.
    static func entries(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata,
                        file: String, function: String, line: UInt) -> [String] {
        var entries = ["MESSAGE=\(message)", "PRIORITY=\(priority(level))", "SYSLOG_IDENTIFIER=\(label)",
                       "CODE_FILE=\(file)", "CODE_LINE=\(line)", "CODE_FUNC=\(function)"]
        entries += metadata.sorted { $0.key < $1.key }.map { "\(metadataField($0.key))=\($0.value)" }
        return entries
    }

    /// Fields this handler sets itself or that the journal gives a meaning to: metadata never overrides them.
    static let reservedFields: Set = ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY", "SYSLOG_PID",
                                      "CODE_FILE", "CODE_LINE", "CODE_FUNC", "MESSAGE_ID", "ERRNO"]

    /// The journal field of a metadata key: its valid field name, under METADATA_ when that name is reserved.
    static func metadataField(_ key: String) -> String {
        let field = Journal.fieldName(key)
        return reservedFields.contains(field) ? String(("METADATA_" + field).prefix(64)) : field
    }

    /// The syslog priority of a swift-log level.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
