/// The resource limits of one server's scope, in systemd's own terms.
///
/// Parse them from systemd syntax (`Limits.Memory("512M")`, `Limits.Tasks("infinity")`) or `NAME=VALUE`
/// assignments as `systemd-run -p` takes them; `unitProperties` is what goes into StartTransientUnit.
public struct Limits: Sendable, Equatable {
    /// A memory limit: bytes, a share of physical memory, or none.
    public enum Memory: Sendable, Equatable {
        case bytes(UInt64)
        /// Hundredths of a percent of physical memory (systemd's permyriad).
        case permyriad(UInt64)
        case infinity

        /// Parses `512M`, `1.5G`, `1073741824`, `50%` or `infinity`.
        public init(_ text: String, field: String = "memory limit") throws(CorralError) {
            if text.trimmingWhitespace(lines: false) == "infinity" {
                self = .infinity
            } else if let value = SystemdSyntax.permyriad(text) {
                self = .permyriad(value)
            } else if let value = SystemdSyntax.bytes(text) {
                self = .bytes(value)
            } else {
                throw .invalid(field, text, "expected a size such as 512M or 1G (suffixes K, M, G, T), a percentage of memory such as 25%, or 'infinity'")
            }
        }
    }

    /// A limit on tasks (processes and threads): a count, a share of the system's limit, or none.
    public enum Tasks: Sendable, Equatable {
        case count(UInt64)
        case permyriad(UInt64)
        case infinity

        /// Parses `256`, `10%` or `infinity`.
        public init(_ text: String, field: String = "tasks limit") throws(CorralError) {
            let trimmed = text.trimmingWhitespace(lines: false)
            if trimmed == "infinity" {
                self = .infinity
            } else if let value = SystemdSyntax.permyriad(trimmed) {
                self = .permyriad(value)
            } else if let value = UInt64(trimmed), value > 0 {
                self = .count(value)
            } else {
                throw .invalid(field, text, "expected a positive number of tasks such as 256, a percentage such as 10%, or 'infinity'")
            }
        }
    }

    /// The default cap on memory: 1 GiB, enough for a Node or Python server, far from a host's total.
    public static let defaultMemoryMax = Memory.bytes(1 << 30)
    /// The default cap on tasks: an npx -> npm -> sh -> node tree with its threads needs about 40.
    public static let defaultTasksMax = Tasks.count(256)

    /// MemoryMax: the hard limit; beyond it the kernel OOM-kills inside the scope.
    public var memoryMax: Memory? = Limits.defaultMemoryMax
    /// MemoryHigh: the throttling threshold below MemoryMax.
    public var memoryHigh: Memory?
    /// MemorySwapMax: swap the scope may use; 0 by default so a leak hits MemoryMax instead of thrashing.
    public var memorySwapMax: Memory? = .bytes(0)
    /// TasksMax: processes and threads together.
    public var tasksMax: Tasks? = Limits.defaultTasksMax
    /// CPUQuota in permyriad of one CPU (100% = 10000 = one whole CPU).
    public var cpuQuota: UInt64?
    /// RuntimeMaxSec in microseconds: systemd stops the scope after this long.
    public var runtimeMax: UInt64?
    /// Further scope properties given as `NAME=VALUE` (see `set(_:)`).
    public var extraProperties: [UnitProperty] = []

    /// Corral's defaults: MemoryMax=1G, MemorySwapMax=0, TasksMax=256.
    public init() {}

    /// No limits at all (accounting only).
    public static var unlimited: Limits {
        var limits = Limits()
        limits.memoryMax = nil
        limits.memorySwapMax = nil
        limits.tasksMax = nil
        return limits
    }

    /// Parses a percentage such as `80%` into permyriad (at most 100%), or nil when it is not one.
    public static func permyriad(_ text: String) -> UInt64? { SystemdSyntax.permyriad(text) }

    /// Parses a CPU quota such as `50%` or `200%` (two CPUs).
    public static func cpuQuota(_ text: String, field: String = "CPU quota") throws(CorralError) -> UInt64 {
        // systemd keeps a quota as a 32-bit permyriad; more than that many CPUs is a typo.
        guard let value = SystemdSyntax.permyriad(text, limit: UInt64(Int32.max)), value > 0 else {
            throw .invalid(field, text, "expected a percentage of one CPU such as 50% or 200%")
        }
        return value
    }

    /// Parses a time span such as `30s`, `5min` or `1h 30min`, in microseconds.
    public static func timeSpan(_ text: String, field: String = "time span") throws(CorralError) -> UInt64 {
        guard let value = SystemdSyntax.microseconds(text), value > 0 else {
            throw .invalid(field, text, "expected a time span such as 30s, 5min, 1h 30min or 'infinity'")
        }
        return value
    }

    /// Applies one `NAME=VALUE` assignment the way `systemd-run -p` does. The resource-control properties a scope
    /// accepts are supported; anything else is refused with the list of what is.
    public mutating func set(_ assignment: String) throws(CorralError) {
        guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
            throw .invalid("property", assignment, "expected NAME=VALUE, e.g. MemoryHigh=400M")
        }
        let name = String(assignment[..<equals])
        let value = String(assignment[assignment.index(after: equals)...])
        switch name {
        case "MemoryMax": memoryMax = try Memory(value, field: name)
        case "MemoryHigh": memoryHigh = try Memory(value, field: name)
        case "MemorySwapMax": memorySwapMax = try Memory(value, field: name)
        case "TasksMax": tasksMax = try Tasks(value, field: name)
        case "CPUQuota": cpuQuota = try Self.cpuQuota(value, field: name)
        case "RuntimeMaxSec": runtimeMax = try Self.timeSpan(value, field: name)
        case "MemoryMin", "MemoryLow":
            extraProperties.append(try Self.memoryProperty(name, Memory(value, field: name)))
        case "CPUWeight", "StartupCPUWeight", "IOWeight", "StartupIOWeight":
            guard let number = UInt64(value), (1...10_000).contains(number) else {
                throw .invalid(name, value, "expected a weight from 1 to 10000")
            }
            extraProperties.append(UnitProperty(name, .uint64(number)))
        case "MemoryAccounting", "TasksAccounting", "CPUAccounting", "IOAccounting", "Delegate":
            guard let flag = SystemdSyntax.bool(value) else { throw .invalid(name, value, "expected yes or no") }
            extraProperties.append(UnitProperty(name, .bool(flag)))
        case "OOMPolicy":
            guard ["continue", "stop", "kill"].contains(value) else {
                throw .invalid(name, value, "expected continue, stop or kill")
            }
            extraProperties.append(UnitProperty(name, .string(value)))
        case "Description":
            extraProperties.append(UnitProperty(name, .string(value)))
        default:
            throw .invalid("property", name, "not a scope property Corral can set; supported: MemoryMax, MemoryHigh, MemorySwapMax, MemoryMin, MemoryLow, TasksMax, CPUQuota, CPUWeight, StartupCPUWeight, IOWeight, StartupIOWeight, RuntimeMaxSec, OOMPolicy, Description, Delegate, MemoryAccounting, TasksAccounting, CPUAccounting, IOAccounting")
        }
    }

    /// The scope properties these limits become, in a stable order.
    public var unitProperties: [UnitProperty] {
        var properties: [UnitProperty] = []
        if let memoryMax { properties.append(Self.memoryProperty("MemoryMax", memoryMax)) }
        if let memoryHigh { properties.append(Self.memoryProperty("MemoryHigh", memoryHigh)) }
        if let memorySwapMax { properties.append(Self.memoryProperty("MemorySwapMax", memorySwapMax)) }
        switch tasksMax {
        case .count(let count): properties.append(UnitProperty("TasksMax", .uint64(count)))
        case .infinity: properties.append(UnitProperty("TasksMax", .uint64(.max)))
        case .permyriad(let share): properties.append(UnitProperty("TasksMaxScale", .uint32(Self.scale(share))))
        case nil: break
        }
        if let cpuQuota { properties.append(UnitProperty("CPUQuotaPerSecUSec", .uint64(cpuQuota * 100))) }
        if let runtimeMax { properties.append(UnitProperty("RuntimeMaxUSec", .uint64(runtimeMax))) }
        return properties + extraProperties
    }

    /// The cgroup controllers these limits need delegated to the scope.
    public var requiredControllers: [String] {
        var controllers: [String] = []
        if memoryMax != nil || memoryHigh != nil || memorySwapMax != nil
            || extraProperties.contains(where: { $0.name.hasPrefix("MemoryMin") || $0.name.hasPrefix("MemoryLow") }) {
            controllers.append("memory")
        }
        if tasksMax != nil { controllers.append("pids") }
        if cpuQuota != nil || extraProperties.contains(where: { $0.name.hasSuffix("CPUWeight") }) {
            controllers.append("cpu")
        }
        if extraProperties.contains(where: { $0.name.hasSuffix("IOWeight") }) { controllers.append("io") }
        return controllers
    }

    private static func memoryProperty(_ name: String, _ memory: Memory) -> UnitProperty {
        switch memory {
        case .bytes(let bytes): UnitProperty(name, .uint64(bytes))
        case .infinity: UnitProperty(name, .uint64(.max))
        case .permyriad(let share): UnitProperty(name + "Scale", .uint32(scale(share)))
        }
    }

    /// systemd's UINT32_SCALE_FROM_PERMYRIAD.
    private static func scale(_ permyriad: UInt64) -> UInt32 {
        UInt32(min((permyriad * UInt64(UInt32.max) + 5_000) / 10_000, UInt64(UInt32.max)))
    }
}
