internal import Glibc

/// A running instance as its monitor recorded it: which process watches the scope and which is the server. A scope
/// whose monitor is gone is stale (`corral gc`). Kept in the state store's `instances/` folder, one file per unit.
public struct InstanceRecord: Sendable, Equatable {
    public var unit: String
    public var name: String
    /// The process that stays with the server (corral run, or the gateway using the library); 0 for `--exec`.
    public var monitorPID: Int32
    public var mainPID: Int32
    /// Unix time of the start.
    public var startedAt: Double

    public init(unit: String, name: String, monitorPID: Int32, mainPID: Int32, startedAt: Double) {
        self.unit = unit
        self.name = name
        self.monitorPID = monitorPID
        self.mainPID = mainPID
        self.startedAt = startedAt
    }

    /// Whether the monitor process still exists (always true for `--exec` instances, which have none).
    public var monitorAlive: Bool {
        monitorPID == 0 || Self.exists(monitorPID)
    }

    /// Whether the instance is still running: its monitor lives, or for `--exec`, its server does.
    public var isRunning: Bool {
        monitorPID == 0 ? Self.exists(mainPID) : Self.exists(monitorPID)
    }

    private static func exists(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || Glibc.errno == EPERM }

    package var text: String {
        "unit=\(unit)\nname=\(name)\nmonitor=\(monitorPID)\nmain=\(mainPID)\nstarted=\(startedAt)\n"
    }

    package init?(text: String) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { return nil }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let unit = fields["unit"], let name = fields["name"], let monitor = fields["monitor"].flatMap(Int32.init),
              let main = fields["main"].flatMap(Int32.init), let started = fields["started"].flatMap(Double.init),
              started.isFinite
        else { return nil }
        self.init(unit: unit, name: name, monitorPID: monitor, mainPID: main, startedAt: started)
    }
}

extension StateStore {
    private var instancesDirectory: String { directory + "/instances" }

    /// Records a running instance (best effort: a listing without it only lacks the PIDs).
    public func recordInstance(_ record: InstanceRecord) {
        _ = mkdir(directory, geteuid() == 0 ? 0o755 : 0o700)
        _ = mkdir(instancesDirectory, geteuid() == 0 ? 0o755 : 0o700)
        try? AtomicFile.write(record.text, to: instancesDirectory + "/" + record.unit, mode: 0o644)
    }

    /// Forgets an instance once its scope is gone.
    public func removeInstance(unit: String) {
        unlink(instancesDirectory + "/" + unit)
    }

    /// The running instances of one server, from their records: no bus round trip on the launch path.
    public func runningInstances(of name: ServerName) -> Int {
        guard let dir = opendir(instancesDirectory) else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let file = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard file.hasPrefix(name.unitPrefix), file.hasSuffix(".scope"), instance(unit: file)?.isRunning == true else { continue }
            count += 1
        }
        return count
    }

    /// The instance recorded for a unit, if any.
    public func instance(unit: String) -> InstanceRecord? {
        guard let text = FileText.read(instancesDirectory + "/" + unit) else { return nil }
        return InstanceRecord(text: text)
    }
}
