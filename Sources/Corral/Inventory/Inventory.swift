internal import CSystemdShim
internal import Glibc

/// One server as `corral ps` shows it: a running (or stale) scope with what it uses now, or a server that only has
/// guardrail state (an open breaker, a backoff) and no scope.
public struct ServerInstance: Sendable, Equatable {
    public var name: ServerName
    /// The scope unit; nil for a server that has guardrail state but no scope.
    public var unit: String?
    /// systemd's ActiveState ("active", "failed", ...), or "inactive" for a server without a scope.
    public var activeState: String
    public var subState: String
    /// The server's main process, from the instance record (or the scope's first process when there is none).
    public var mainPID: Int32?
    /// The process that watches the scope (`corral run`, a gateway); nil for `--exec` instances and without a record.
    public var monitorPID: Int32?
    /// Seconds since the start.
    public var uptime: Double?
    /// What the scope uses now; nil when its cgroup is gone or unreadable.
    public var usage: Usage?
    /// The cgroup path below /sys/fs/cgroup, when it was found.
    public var cgroupPath: String?
    /// The instance's monitor is dead, or systemd keeps the scope as failed: `corral gc` cleans it up.
    public var stale: Bool
    /// The server's guardrail record, shared by all its instances; nil when it has none.
    public var guardrails: ServerState?
    /// Boot time (seconds since boot, the clock of `now`) until which a start of this server is refused (open
    /// breaker, probe running, backoff); nil when a start would go ahead now (the instance cap aside).
    public var refusedUntil: Double?

    public init(name: ServerName, unit: String?, activeState: String, subState: String, mainPID: Int32? = nil,
                monitorPID: Int32? = nil, uptime: Double? = nil, usage: Usage? = nil, cgroupPath: String? = nil,
                stale: Bool = false, guardrails: ServerState? = nil, refusedUntil: Double? = nil) {
        self.name = name
        self.unit = unit
        self.activeState = activeState
        self.subState = subState
        self.mainPID = mainPID
        self.monitorPID = monitorPID
        self.uptime = uptime
        self.usage = usage
        self.cgroupPath = cgroupPath
        self.stale = stale
        self.guardrails = guardrails
        self.refusedUntil = refusedUntil
    }

    /// Whether the instance has a scope that systemd runs (not a guardrail-only row, not failed).
    public var isRunning: Bool { unit != nil && activeState != "failed" && activeState != "inactive" }

    /// Starts after the first one (the server's starts that were let through, less one; never negative).
    public var restarts: Int { max(0, (guardrails?.starts ?? 0) - 1) }

    public var consecutiveFailures: Int { guardrails?.consecutiveFailures ?? 0 }

    public var breaker: ServerState.Breaker { guardrails?.breaker ?? .closed }

    /// Every Corral server of `manager`: running and stale scopes, then servers with guardrail state and no scope.
    /// One ListUnitsByPatterns call; usage is read from the cgroup files (a bus call per unit only for scopes in
    /// another slice than corral.slice).
    public static func list(manager: SystemdBus.Manager = .automatic) async throws(CorralError) -> [ServerInstance] {
        try await Inventory.take(manager: manager).instances
    }

    /// Sends `signal` to the main process, through a pidfd and only if that process is still in this instance's
    /// scope (never to a reused PID). Returns whether it was sent.
    public func signalMainProcess(_ signal: Int32) -> Bool {
        guard let pid = mainPID, pid > 0, let unit else { return false }
        let pidfd = cs_pidfd_open(pid)
        guard pidfd >= 0 else { return false }
        defer { close(pidfd) }
        // Checked after the pidfd is open: the PID cannot be reused while we hold it.
        guard let path = CgroupFiles.membership(of: String(pid)),
              path.hasSuffix("/" + unit) || path.contains("/" + unit + "/")
        else { return false }
        return cs_pidfd_send_signal(pidfd, signal) >= 0
    }

    /// "4s", "2m 5s", "1h 3m" (for uptimes and refusals).
    public static func formatSpan(_ seconds: Double) -> String { UnixTime.span(seconds) }

    /// The current boot time (CLOCK_BOOTTIME seconds, which guardrail state uses), to compare with `refusedUntil`.
    public static var now: Double { BootTime.now }
}

/// A snapshot of a manager's Corral servers, and the instance records whose scope no longer exists.
public struct Inventory: Sendable {
    public var manager: SystemdBus.Manager
    public var instances: [ServerInstance]
    /// Records left by instances whose scope is gone (`--exec` instances, killed monitors): `corral gc` removes them.
    public var orphanedRecords: [InstanceRecord]
    /// Leaf slices whose monitor is gone (a killed monitor cannot stop its own), with what is left in them:
    /// `corral gc` stops them.
    public var orphanedSlices: [String] = []
    /// Where the records live.
    public var store: StateStore

    /// Takes the snapshot (see `ServerInstance.list`).
    public static func take(manager: SystemdBus.Manager = .automatic) async throws(CorralError) -> Inventory {
        let bus = try SystemdBus.shared(manager)
        let store = StateStore.forManager(manager)
        // Records first, units second: a record is written after its scope exists, so a record whose unit is not
        // listed afterwards really is an orphan.
        let records = store.instanceRecords()
        // Leaf slices are named by their scope's id in whatever slice: their Description tells them apart.
        let units = try await bus.listUnits(matching: ["corral-*.scope", "*-????????.slice", "????????.slice"])
        let now = BootTime.now
        let base = ServerSlice.cgroupPath(ServerSlice.defaultName, manager: manager)
        let ours = units.filter { $0.activeState != "inactive" && $0.name.hasPrefix("corral-") && $0.name.hasSuffix(".scope") }
        let listed = Set(ours.map(\.name))

        // The cgroup and state files are the cost (a dozen small files per scope): read them on every CPU.
        let chunks = max(1, min(ours.count / 32, min(8, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))))
        let size = (ours.count + chunks - 1) / max(chunks, 1)
        var instances: [ServerInstance] = []
        if chunks == 1 {
            instances = inspect(ours[...], records: records, base: base, store: store, now: now)
        } else {
            let parts = await withTaskGroup(of: (Int, [ServerInstance]).self) { group in
                for chunk in 0..<chunks {
                    let slice = ours[min(ours.count, chunk * size)..<min(ours.count, (chunk + 1) * size)]
                    group.addTask { (chunk, inspect(slice, records: records, base: base, store: store, now: now)) }
                }
                var parts: [Int: [ServerInstance]] = [:]
                for await (chunk, part) in group { parts[chunk] = part }
                return parts
            }
            for chunk in 0..<chunks { instances += parts[chunk] ?? [] }
        }
        let elsewhere = instances.indices.filter { instances[$0].cgroupPath == nil && instances[$0].activeState != "failed" }

        // Scopes in another slice (--slice): ask systemd where their cgroup is, all at once.
        if !elsewhere.isEmpty {
            let paths = await withTaskGroup(of: (Int, String?).self) { group in
                for index in elsewhere {
                    let unit = instances[index].unit!
                    group.addTask {
                        (index, try? await bus.stringProperty("ControlGroup", interface: "org.freedesktop.systemd1.Scope", unit: unit))
                    }
                }
                var paths: [Int: String] = [:]
                for await (index, path) in group { if let path, !path.isEmpty { paths[index] = path } }
                return paths
            }
            var boot = BootClock()
            for (index, path) in paths {
                guard let cgroup = try? Cgroup(path: path) else { continue }
                instances[index].read(cgroup, boot: &boot)
                cgroup.close()
            }
        }

        // Servers that a guardrail refuses (or that only have history): no scope, but state to show.
        let running = Set(instances.map(\.name))
        for name in store.names() where !running.contains(name) {
            guard let state = store.quickRead(name) else { continue }
            instances.append(ServerInstance(name: name, unit: nil, activeState: "inactive", subState: "dead",
                                            guardrails: state, refusedUntil: refusal(of: state, now: now)))
        }
        instances.sort { ($0.name.rawValue, $0.unit ?? "") < ($1.name.rawValue, $1.unit ?? "") }

        // A record whose monitor still runs is not an orphan, though its scope is gone: systemd removes an empty
        // scope at once, and the monitor records the outcome (which other starts wait for) and then the record.
        let orphans = records.values.filter { !listed.contains($0.unit) && !($0.monitor != nil && $0.isWatched) }
            .sorted { $0.unit < $1.unit }
        // Only the monitor stops its leaf, and it may do so well after the scope is gone: a leaf is orphaned when
        // its monitor is, whatever its scope does.
        let slices = units.filter { unit in
            guard unit.activeState != "inactive", let leaf = SliceName.leaf(described: unit.description) else { return false }
            return kill(leaf.monitor, 0) != 0 && errno == ESRCH
        }
        return Inventory(manager: manager, instances: instances, orphanedRecords: orphans,
                         orphanedSlices: slices.map(\.name).sorted(), store: store)
    }

    /// Builds the rows of listed scopes: instance record, guardrail state, usage from the cgroup at the default path.
    private static func inspect(_ units: ArraySlice<SystemdBus.UnitStatus>, records: [String: InstanceRecord],
                                base: String, store: StateStore, now: Double) -> [ServerInstance] {
        var states: [ServerName: ServerState?] = [:]
        var boot = BootClock()
        var instances: [ServerInstance] = []
        instances.reserveCapacity(units.count)
        for status in units {
            guard let name = ServerName.from(unit: status.name) else { continue }
            let state: ServerState?
            if let known = states[name] {
                state = known
            } else {
                state = store.quickRead(name)
                states[name] = state
            }
            var instance = ServerInstance(name: name, unit: status.name, activeState: status.activeState,
                                          subState: status.subState, guardrails: state)
            let record = records[status.name]
            if let record {
                instance.mainPID = record.mainPID
                instance.monitorPID = record.monitorPID == 0 ? nil : record.monitorPID
                instance.uptime = max(0, now - record.startedAt)
            }
            instance.stale = status.activeState == "failed" || (record.map { !$0.monitorAlive } ?? false)
            instance.refusedUntil = state.flatMap { refusal(of: $0, now: now) }
            // A scope with a monitor sits in its leaf slice, an `--exec` one in the slice itself.
            let leaf = SliceName.leaf(of: status.name, in: ServerSlice.defaultName).map { base + "/" + $0 }
            if let cgroup = (try? Cgroup(path: (leaf ?? base) + "/" + status.name)) ?? (try? Cgroup(path: base + "/" + status.name)) {
                instance.read(cgroup, boot: &boot)
                cgroup.close()
            }
            instances.append(instance)
        }
        return instances
    }

    /// When a start is refused until, given a server's state.
    static func refusal(of state: ServerState, now: Double) -> Double? {
        switch state.breaker {
        case .open, .halfOpen: return state.breakerUntil > now ? state.breakerUntil : nil
        case .closed: return state.nextStartAt > now ? state.nextStartAt : nil
        }
    }
}

extension ServerInstance {
    /// Fills in usage (and the main PID and uptime when no record gave them) from the scope's cgroup.
    fileprivate mutating func read(_ cgroup: Cgroup, boot: inout BootClock) {
        cgroupPath = cgroup.path
        usage = Usage(cgroup)
        // A stale instance's main process may have died with its monitor (parent-death signal): show a live one.
        let mainGone = stale && mainPID.map { kill($0, 0) != 0 && errno == ESRCH } == true
        if mainPID == nil || mainGone, let first = cgroup.read("cgroup.procs")?.split(separator: "\n").first.flatMap({ Int32($0) }) {
            mainPID = first
        }
        if uptime == nil, let pid = mainPID { uptime = boot.age(of: pid) }
    }
}

/// Process ages from /proc/PID/stat's start time (clock ticks since boot) and /proc/uptime, read once.
private struct BootClock {
    private lazy var uptime: Double? = FileText.read("/proc/uptime")?
        .split(separator: " ").first.flatMap { Double($0) }
    private let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    mutating func age(of pid: Int32) -> Double? {
        guard let uptime, ticks > 0, let text = FileText.read("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command: state is field 3, starttime field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let start = Double(fields[19]) else { return nil }
        return max(0, uptime - start / ticks)
    }
}

extension StateStore {
    /// A server's guardrail record, read with a small buffer (`read(_:)` zeroes 64 KiB per record).
    func quickRead(_ name: ServerName) -> ServerState? {
        FileText.read(path(name)).flatMap { ServerState(text: $0) }
    }

    /// Every instance record, by unit (unreadable ones are skipped).
    public func instanceRecords() -> [String: InstanceRecord] {
        let folder = directory + "/instances"
        guard let dir = opendir(folder) else { return [:] }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var records: [String: InstanceRecord] = [:]
        for file in DirectoryEntries.names(in: dir) {
            guard file.hasPrefix("corral-"), file.hasSuffix(".scope"),
                  let text = FileText.read(file, in: fd), let record = InstanceRecord(text: text), record.unit == file
            else { continue }
            records[file] = record
        }
        return records
    }
}
