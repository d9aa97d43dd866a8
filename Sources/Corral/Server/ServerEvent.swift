/// One thing that happened to a server, worded as `corral run` reports it: what a gateway logs (through
/// `CorralLogging`'s swift-log support, or `sendToJournal()`) to tell its operators the same story.
public struct ServerEvent: Sendable, Equatable {
    public var kind: Journal.Event
    public var server: String
    public var unit: String?
    public var priority: Journal.Priority
    public var message: String
    /// Further structured fields, names in upper case (the journal adds the CORRAL_ prefix).
    public var fields: [String: String]
    /// Whether an operator must see it even when routine events are not shown: an OOM kill, a hit tasks limit, a
    /// seccomp kill, a guardrail refusal, a crossed threshold.
    public var isAlarming: Bool

    public init(_ kind: Journal.Event, server: String, unit: String? = nil, priority: Journal.Priority = .info,
                message: String, fields: [String: String] = [:], isAlarming: Bool = false) {
        self.kind = kind
        self.server = server
        self.unit = unit
        self.priority = priority
        self.message = message
        self.fields = fields
        self.isAlarming = isAlarming
    }

    /// Writes the event to the journal as a structured entry; returns whether the journal took it.
    @discardableResult
    public func sendToJournal() -> Bool {
        Journal.send(kind, server: server, unit: unit, priority: priority, message: message, fields: fields)
    }

    /// The server started in its scope.
    public static func started(_ server: ServerProcess) -> ServerEvent {
        ServerEvent(.start, server: server.name.rawValue, unit: server.unit,
                    message: "server '\(server.name)' started as \(server.unit), PID \(server.pid)", fields: ["PID": "\(server.pid)"])
    }

    /// A guardrail refused the start (`error` is the refusal, code `.refused`).
    public static func refused(_ server: ServerName, _ error: CorralError) -> ServerEvent {
        ServerEvent(.refused, server: server.rawValue, priority: .warning, message: error.message, isAlarming: true)
    }

    /// The server ended: an OOM kill, a hit tasks limit and a seccomp kill are named as such, with what to do.
    public static func ended(_ termination: Termination, of server: ServerProcess) -> ServerEvent {
        let name = server.name.rawValue
        let usage = termination.usage
        let fields = ["EXIT_STATUS": "\(termination.exitCode)", "REASON": termination.reason.rawValue]
        switch termination.reason {
        case .oomKilled:
            let limit = usage?.memoryMax.map(ByteCount.format) ?? "its memory limit"
            let peak = usage?.memoryPeak.map { ", peak \(ByteCount.format($0))" } ?? ""
            return ServerEvent(.oomKill, server: name, unit: server.unit, priority: .error,
                               message: "server '\(name)' was OOM-killed: its scope \(server.unit) reached MemoryMax=\(limit)\(peak); \(usage?.oomKills ?? 1) process(es) killed, the rest of the tree with them. Raise --memory-max or find the leak.",
                               fields: fields, isAlarming: true)
        case .tasksLimit:
            let limit = usage?.tasksMax.map(String.init) ?? "its limit"
            return ServerEvent(.tasksLimit, server: name, unit: server.unit, priority: .warning,
                               message: "server '\(name)' hit its tasks limit (TasksMax=\(limit)): \(usage?.tasksLimitHits ?? 1) fork(s) refused, then it \(termination.description). Raise --tasks-max if it really needs more.",
                               fields: fields, isAlarming: true)
        case .exited, .stopped:
            if case .signaled(31) = termination.status {
                return ServerEvent(.exit, server: name, unit: server.unit, priority: .error,
                                   message: "server '\(name)' was killed by SIGSYS: a seccomp filter refused a syscall (with the default profile, one through a 32-bit or x32 ABI). See `journalctl -k | grep audit` for the syscall, or run with --seccomp none to confirm.",
                                   fields: fields, isAlarming: true)
            }
            return ServerEvent(.exit, server: name, unit: server.unit, message: "server '\(name)' \(termination.description)", fields: fields)
        }
    }

    /// The server's memory crossed `threshold` bytes.
    public static func memoryThreshold(_ server: ServerProcess, usage: Usage, threshold: UInt64) -> ServerEvent {
        ServerEvent(.threshold, server: server.name.rawValue, unit: server.unit, priority: .warning,
                    message: "server '\(server.name)' uses \(ByteCount.format(usage.memoryCurrent)) of memory, past its warning threshold of \(ByteCount.format(threshold))" + (usage.memoryMax.map { " (MemoryMax=\(ByteCount.format($0)))" } ?? ""),
                    fields: ["RESOURCE": "memory", "CURRENT": "\(usage.memoryCurrent)", "THRESHOLD": "\(threshold)"], isAlarming: true)
    }

    /// The server's tasks crossed `threshold`.
    public static func tasksThreshold(_ server: ServerProcess, usage: Usage, threshold: UInt64) -> ServerEvent {
        ServerEvent(.threshold, server: server.name.rawValue, unit: server.unit, priority: .warning,
                    message: "server '\(server.name)' runs \(usage.tasksCurrent) tasks, past its warning threshold of \(threshold)" + (usage.tasksMax.map { " (TasksMax=\($0))" } ?? ""),
                    fields: ["RESOURCE": "tasks", "CURRENT": "\(usage.tasksCurrent)", "THRESHOLD": "\(threshold)"], isAlarming: true)
    }
}
