internal import Glibc

/// The `instances/` folder: one record per running scope (`InstanceRecord`), and one reservation per start that was
/// admitted and has no scope yet, so that concurrent starts of a server count against its instance cap before their
/// scopes exist.
extension StateStore {
    private var instancesDirectory: String { directory + "/instances" }

    /// Records a running instance (best effort: a listing without it only lacks the PIDs).
    public func recordInstance(_ record: InstanceRecord) {
        guard prepareInstances() else { return }
        try? AtomicFile.write(record.text, to: instancesDirectory + "/" + record.unit, mode: 0o644)
    }

    /// Forgets an instance once its scope is gone.
    public func removeInstance(unit: String) {
        unlink(instancesDirectory + "/" + unit)
    }

    /// The instance recorded for a unit, if any (only a record this user wrote: one planted by another user in a
    /// directory it could once write must not name the processes corral signals).
    public func instance(unit: String) -> InstanceRecord? {
        ownedText(instancesDirectory + "/" + unit).flatMap { InstanceRecord(text: $0) }
    }

    /// Reserves a place for an admitted start of `name` (this process, until its scope is recorded or the start is
    /// abandoned); returns the reservation's file.
    func reserveInstance(of name: ServerName) -> String? {
        guard prepareInstances(), let own = ProcessIdentity.current.startTicks else { return nil }
        let file = instancesDirectory + "/" + name.unitPrefix + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            + ".admission"
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let bytes = Array("monitor=\(ProcessIdentity.current.pid)\nmonitor_start=\(own)\n".utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            unlink(file)
            return nil
        }
        return file
    }

    /// Gives a reserved place back (the start's scope is recorded, or the start was abandoned).
    func removeReservation(_ file: String) { unlink(file) }

    /// The instances of `name` as the instance cap counts them, for a decision taken under the server's lock: the
    /// records that still hold a scope (a killed monitor's orphan too: stopping it is `corral gc`'s job) plus the
    /// reservations of live processes. Records whose scope is gone and dead processes' reservations are removed;
    /// the removed records are returned (an `--exec` instance's end is only ever learnt this way).
    func census(of name: ServerName) -> (running: [InstanceRecord], reserved: Int, ended: [InstanceRecord]) {
        var running: [InstanceRecord] = [], ended: [InstanceRecord] = []
        var reserved = 0
        for file in DirectoryEntries.names(atPath: instancesDirectory) ?? [] {
            guard file.hasPrefix(name.unitPrefix) else { continue }
            let path = instancesDirectory + "/" + file
            if file.hasSuffix(".admission") {
                if let holder = ownedText(path).flatMap(Self.reservationHolder), holder.isRunning {
                    reserved += 1
                } else {
                    unlink(path)
                }
            } else if file.hasSuffix(".scope"), let record = ownedText(path).flatMap({ InstanceRecord(text: $0) }) {
                if record.holdsScope {
                    running.append(record)
                } else {
                    unlink(path)
                    ended.append(record)
                }
            }
        }
        return (running, reserved, ended)
    }

    /// The process that holds a reservation.
    private static func reservationHolder(_ text: String) -> ProcessIdentity? {
        let fields = text.split(separator: "\n").map { $0.split(separator: "=", maxSplits: 1) }
        guard fields.count == 2, fields.allSatisfy({ $0.count == 2 }), fields[0][0] == "monitor",
              fields[1][0] == "monitor_start", let pid = Int32(fields[0][1]), let ticks = UInt64(fields[1][1])
        else { return nil }
        return ProcessIdentity(pid: pid, startTicks: ticks)
    }

    /// Whether the folder is there and can be trusted (see `prepare`).
    private func prepareInstances() -> Bool {
        (try? prepare(directory)) != nil && (try? prepare(instancesDirectory)) != nil
    }

    /// A file's text if this user owns it (at most 64 KiB: records are a few hundred bytes).
    func ownedText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_uid == geteuid() else { return nil }
        return FileText.read(descriptor: fd, atMost: 65536)
    }
}
