import Corral
@testable import CorralLogging
import Logging
import Synchronization
import Testing

struct JournalLogHandlerTests {
    @Test(arguments: [("server", "SERVER"), ("corral_unit", "CORRAL_UNIT"), ("_cursor", "CURSOR"), ("9lives", "F9LIVES"),
                      ("a-b.c", "A_B_C"), ("", "F"), ("ünï", "N_")])
    func metadataKeysBecomeValidJournalFieldNames(key: String, field: String) {
        #expect(Journal.fieldName(key) == field)
    }

    @Test func longKeysAreCutToTheJournalsLimit() {
        #expect(Journal.fieldName(String(repeating: "k", count: 100)).count == 64)
    }

    @Test func anEntryCarriesMessagePriorityIdentifierSourceAndMetadata() {
        let entries = JournalLogHandler.entries(label: "gateway", level: .warning, message: "disk low",
                                                metadata: ["server": "files", "free-bytes": "12"], file: "G/A.swift",
                                                function: "f()", line: 7)
        #expect(entries == ["MESSAGE=disk low", "PRIORITY=4", "SYSLOG_IDENTIFIER=gateway", "CODE_FILE=G/A.swift", "CODE_LINE=7",
                            "CODE_FUNC=f()", "FREE_BYTES=12", "SERVER=files"])
    }

    @Test func metadataNeverOverridesTheEntrysOwnFields() {
        let entries = JournalLogHandler.entries(label: "gateway", level: .info, message: "real", metadata: ["message": "fake", "priority": "0"],
                                                file: "f", function: "g", line: 1)
        #expect(entries.filter { $0.hasPrefix("MESSAGE=") } == ["MESSAGE=real"])
        #expect(entries.filter { $0.hasPrefix("PRIORITY=") } == ["PRIORITY=6"])
        #expect(entries.contains("METADATA_MESSAGE=fake") && entries.contains("METADATA_PRIORITY=0"))
    }

    @Test(arguments: [(Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2)])
    func levelsMapToSyslogPriorities(level: Logger.Level, priority: Int) {
        #expect(JournalLogHandler.priority(level) == priority)
    }

    @Test func aServerEventIsLoggedWithCorralsFieldsAtItsPriority() {
        let captured = Captured()
        let logger = Logger(label: "test") { _ in CapturingHandler(captured: captured) }
        logger.log(ServerEvent(.oomKill, server: "files", unit: "corral-files-1.scope", priority: .error,
                               message: "server 'files' was OOM-killed", fields: ["EXIT_STATUS": "137"], isAlarming: true))
        let records = captured.records.withLock { $0 }
        #expect(records.count == 1)
        #expect(records.first?.level == .error)
        #expect(records.first?.message == "server 'files' was OOM-killed")
        #expect(records.first?.metadata == ["corral_event": "oom-kill", "corral_server": "files",
                                            "corral_unit": "corral-files-1.scope", "corral_exit_status": "137"])
    }
}

private final class Captured: Sendable {
    let records = Mutex<[(level: Logger.Level, message: String, metadata: [String: String])]>([])
}

private struct CapturingHandler: LogHandler {
    let captured: Captured
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let flat = (event.metadata ?? [:]).mapValues { "\($0)" }
        captured.records.withLock { $0.append((event.level, "\(event.message)", flat)) }
    }
}
