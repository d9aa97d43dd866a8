internal import Glibc

/// The slice all servers share: its own limits bound the sum of every MCP server, however generous each server's.
public enum ServerSlice {
    /// The slice every server goes in unless told otherwise.
    public static let defaultName = "corral.slice"

    /// The slice's Description=, whether Corral creates it or `corral install` writes its unit file.
    static let description = "Corral: all MCP servers together"

    /// Limits given to the slice when Corral creates it: half the memory, no swap, 4096 tasks.
    public static var defaultLimits: Limits {
        var limits = Limits()
        limits.memoryMax = .permyriad(5000)
        limits.memorySwapMax = .bytes(0)
        limits.tasksMax = .count(4096)
        return limits
    }

    /// The slice's cgroup directory below /sys/fs/cgroup ("a-b.slice" nests in "a.slice"; a user's slices live in
    /// their manager's user@UID.service).
    public static func cgroupPath(_ slice: String, manager: SystemdBus.Manager) -> String {
        let stem = slice.dropLast(".slice".count)
        var path = ""
        var prefix = ""
        for part in stem.split(separator: "-") {
            prefix += prefix.isEmpty ? String(part) : "-" + part
            path += "/" + prefix + ".slice"
        }
        if manager == .user {
            let uid = getuid()
            return "/user.slice/user-\(uid).slice/user@\(uid).service" + path
        }
        return path
    }

    /// Makes sure the slice exists before a scope is put in it, creating it with `defaultLimits` the first time.
    /// An existing slice (or one with a unit file, which systemd starts with its own settings) is left as it is.
    static func ensure(_ slice: String, bus: SystemdBus) async throws(CorralError) {
        guard access(Cgroup.root + cgroupPath(slice, manager: bus.manager), F_OK) != 0 else { return }
        do {
            try await bus.startTransientUnit(slice, properties: [
                UnitProperty("Description", .string(description)),
                UnitProperty("MemoryAccounting", .bool(true)),
                UnitProperty("TasksAccounting", .bool(true)),
            ] + defaultLimits.unitProperties)
        } catch where error.busErrorName == "org.freedesktop.systemd1.UnitExists" {
            // Loaded from a unit file, or created by a concurrent start: fine either way.
        }
    }

    /// Sets the slice's limits persistently, like `systemctl set-property`.
    public static func setLimits(_ limits: Limits, of slice: String, bus: SystemdBus) async throws(CorralError) {
        try await ensure(slice, bus: bus)
        try await bus.setUnitProperties(slice, runtime: false, limits.unitProperties)
    }

    /// A unit file for the slice with `defaultLimits`, the same settings `ensure` gives a slice it creates. `header`
    /// goes first (comment lines).
    public static func unitFile(header: String) -> String {
        var lines = [header, "[Unit]", "Description=\(description)", "", "[Slice]",
                     "MemoryAccounting=yes", "TasksAccounting=yes"]
        let limits = defaultLimits
        func assign(_ name: String, _ memory: Limits.Memory?) {
            switch memory {
            case .bytes(let bytes): lines.append("\(name)=\(bytes)")
            case .permyriad(let share): lines.append("\(name)=\(percent(share))")
            case .infinity: lines.append("\(name)=infinity")
            case nil: break
            }
        }
        assign("MemoryMax", limits.memoryMax)
        assign("MemoryHigh", limits.memoryHigh)
        assign("MemorySwapMax", limits.memorySwapMax)
        switch limits.tasksMax {
        case .count(let count): lines.append("TasksMax=\(count)")
        case .permyriad(let share): lines.append("TasksMax=\(percent(share))")
        case .infinity: lines.append("TasksMax=infinity")
        case nil: break
        }
        if let quota = limits.cpuQuota { lines.append("CPUQuota=\(percent(quota))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// 5000 permyriad is "50%", 1234 is "12.34%".
    private static func percent(_ permyriad: UInt64) -> String {
        let hundredths = permyriad % 100
        return "\(permyriad / 100)" + (hundredths == 0 ? "" : hundredths < 10 ? ".0\(hundredths)" : ".\(hundredths)") + "%"
    }
}
