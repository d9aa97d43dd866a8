public import Corral
public import Logging

extension Logger {
    /// Logs a server's lifecycle event (`ServerEvent.started`, `.ended`, ...) at its priority, with the fields
    /// `corral run` puts in the journal as metadata: corral_event, corral_server, corral_unit and the rest.
    public func log(_ event: ServerEvent, file: String = #fileID, function: String = #function, line: UInt = #line) {
        var metadata: Metadata = ["corral_event": "\(event.kind.rawValue)", "corral_server": "\(event.server)"]
        if let unit = event.unit { metadata["corral_unit"] = "\(unit)" }
        for (name, value) in event.fields { metadata["corral_" + name.lowercased()] = "\(value)" }
        log(level: Self.level(event.priority), "\(event.message)", metadata: metadata, file: file, function: function, line: line)
    }

    static func level(_ priority: Journal.Priority) -> Level {
        switch priority {
        case .error: .error
        case .warning: .warning
        case .notice: .notice
        case .info: .info
        }
    }
}
