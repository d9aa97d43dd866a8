/// A running instance as its monitor recorded it: which process watches the scope, which is the server, and where
/// its cgroup is. A scope whose monitor is gone is stale (`corral gc`). Kept in the state store's `instances/`
/// folder, one file per unit (see `StateStore+Instances.swift`).
public struct InstanceRecord: Sendable, Equatable {
    public var unit: String
    public var name: String
    /// The process that stays with the server (corral run, or the gateway using the library); 0 for `--exec`.
    public var monitorPID: Int32
    public var mainPID: Int32
    /// Start times (clock ticks since boot) of the monitor and the main process; nil in records of older corrals.
    public var monitorStartTicks: UInt64?
    public var mainStartTicks: UInt64?
    /// The scope's cgroup below /sys/fs/cgroup; nil in records of older corrals.
    public var cgroup: String?
    /// Boot time (seconds since boot, see `BootTime`) of the start.
    public var startedAt: Double

    public init(unit: String, name: String, monitor: ProcessIdentity?, main: ProcessIdentity, cgroup: String?,
                startedAt: Double) {
        self.unit = unit
        self.name = name
        monitorPID = monitor?.pid ?? 0
        monitorStartTicks = monitor?.startTicks
        mainPID = main.pid
        mainStartTicks = main.startTicks
        self.cgroup = cgroup
        self.startedAt = startedAt
    }

    /// The monitor process; nil for `--exec` instances, which have none.
    public var monitor: ProcessIdentity? {
        monitorPID == 0 ? nil : ProcessIdentity(pid: monitorPID, startTicks: monitorStartTicks)
    }

    public var main: ProcessIdentity { ProcessIdentity(pid: mainPID, startTicks: mainStartTicks) }

    /// Whether the monitor process still runs (always true for `--exec` instances, which have none). A record
    /// without the monitor's start time can only tell that its PID is taken, perhaps by another process.
    public var monitorAlive: Bool {
        guard let monitor else { return true }
        return monitor.startTicks == nil ? monitor.pidIsTaken : monitor.isRunning
    }

    /// Whether the instance's monitor runs, or for `--exec` its server: whether its end will be recorded or found.
    /// Records of older corrals tell only whether the PID is taken.
    package var isWatched: Bool {
        let watcher = monitor ?? main
        return watcher.startTicks == nil ? watcher.pidIsTaken : watcher.isRunning
    }

    /// Whether the instance still holds a scope: it is watched, or its cgroup still has processes (the orphan of a
    /// killed monitor).
    package var holdsScope: Bool {
        if isWatched { return true }
        guard let cgroup, let events = FileText.read(CgroupFiles.root + cgroup + "/cgroup.events") else { return false }
        return CgroupFiles.keyed(events)["populated"] == 1
    }

    package var text: String {
        var lines = ["version=2", "unit=\(unit)", "name=\(name)", "monitor=\(monitorPID)"]
        if let monitorStartTicks { lines.append("monitor_start=\(monitorStartTicks)") }
        lines.append("main=\(mainPID)")
        if let mainStartTicks { lines.append("main_start=\(mainStartTicks)") }
        if let cgroup { lines.append("cgroup=\(cgroup)") }
        lines.append("started=\(startedAt)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a record. One without a version line is of the first format, whose start is a wall-clock time:
    /// `wallClockOffset` (wall clock less boot time) turns it into boot time.
    package init?(text: String, wallClockOffset: Double = BootTime.wallClockOffset) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { return nil }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let unit = fields["unit"], let name = fields["name"], let monitor = fields["monitor"].flatMap(Int32.init),
              let main = fields["main"].flatMap(Int32.init), var started = fields["started"].flatMap(Double.init),
              started.isFinite
        else { return nil }
        switch fields["version"] {
        case nil: started -= wallClockOffset
        case "2": break
        default: return nil
        }
        func ticks(_ key: String) -> UInt64?? {
            guard let value = fields[key] else { return .some(nil) }
            return UInt64(value).map { .some($0) }
        }
        guard let monitorTicks = ticks("monitor_start"), let mainTicks = ticks("main_start"),
              fields["cgroup"].map({ $0.hasPrefix("/") }) ?? true
        else { return nil }
        self.init(unit: unit, name: name,
                  monitor: monitor == 0 ? nil : ProcessIdentity(pid: monitor, startTicks: monitorTicks),
                  main: ProcessIdentity(pid: main, startTicks: mainTicks), cgroup: fields["cgroup"], startedAt: started)
    }
}
