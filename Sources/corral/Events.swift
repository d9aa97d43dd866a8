import Corral

/// What `corral run` reports: on stderr when an operator must see it, and always as a structured journal entry.
enum Events {
    static func report(_ event: Journal.Event, server: String, unit: String? = nil, priority: Journal.Priority = .info,
                       onStderr: Bool, _ message: String, fields: [String: String] = [:]) {
        if onStderr { Console.error(message) }
        Journal.send(event, server: server, unit: unit, priority: priority, message: message, fields: fields)
    }

    /// The end of a server: an OOM kill, a hit tasks limit and a seccomp kill are said on stderr too, by name.
    static func exit(_ termination: Termination, of server: ServerProcess) {
        let name = server.name.rawValue
        let usage = termination.usage
        let fields = ["EXIT_STATUS": "\(termination.exitCode)", "REASON": termination.reason.rawValue]
        switch termination.reason {
        case .oomKilled:
            let limit = usage?.memoryMax.map(ByteCount.format) ?? "its memory limit"
            let peak = usage?.memoryPeak.map { ", peak \(ByteCount.format($0))" } ?? ""
            report(.oomKill, server: name, unit: server.unit, priority: .error, onStderr: true,
                   "server '\(name)' was OOM-killed: its scope \(server.unit) reached MemoryMax=\(limit)\(peak); \(usage?.oomKills ?? 1) process(es) killed, the rest of the tree with them. Raise --memory-max or find the leak.",
                   fields: fields)
        case .tasksLimit:
            let limit = usage?.tasksMax.map(String.init) ?? "its limit"
            report(.tasksLimit, server: name, unit: server.unit, priority: .warning, onStderr: true,
                   "server '\(name)' hit its tasks limit (TasksMax=\(limit)): \(usage?.tasksLimitHits ?? 1) fork(s) refused, then it \(termination.description). Raise --tasks-max if it really needs more.",
                   fields: fields)
        case .exited, .stopped:
            if case .signaled(31) = termination.status {
                report(.exit, server: name, unit: server.unit, priority: .error, onStderr: true,
                       "server '\(name)' was killed by SIGSYS: a seccomp filter refused a syscall (with the default profile, one through a 32-bit or x32 ABI). See `journalctl -k | grep audit` for the syscall, or run with --seccomp none to confirm.",
                       fields: fields)
            } else {
                report(.exit, server: name, unit: server.unit, onStderr: false, "server '\(name)' \(termination.description)",
                       fields: fields)
            }
        }
    }
}
