/// What a server's scope uses now, read straight from its cgroup files.
public struct Usage: Sendable, Equatable {
    /// memory.current, in bytes.
    public var memoryCurrent: UInt64
    /// memory.peak (Linux 5.19+), in bytes.
    public var memoryPeak: UInt64?
    /// memory.max; nil when unlimited.
    public var memoryMax: UInt64?
    /// pids.current: processes and threads.
    public var tasksCurrent: UInt64
    /// pids.max; nil when unlimited.
    public var tasksMax: UInt64?
    /// CPU time used, in microseconds (cpu.stat usage_usec).
    public var cpuMicroseconds: UInt64
    /// Processes the kernel OOM-killed in the scope (memory.events oom_kill).
    public var oomKills: UInt64
    /// Forks refused at the tasks limit (pids.events max).
    public var tasksLimitHits: UInt64

    init(memoryCurrent: UInt64, memoryPeak: UInt64?, memoryMax: UInt64?, tasksCurrent: UInt64, tasksMax: UInt64?,
         cpuMicroseconds: UInt64, oomKills: UInt64, tasksLimitHits: UInt64) {
        self.memoryCurrent = memoryCurrent
        self.memoryPeak = memoryPeak
        self.memoryMax = memoryMax
        self.tasksCurrent = tasksCurrent
        self.tasksMax = tasksMax
        self.cpuMicroseconds = cpuMicroseconds
        self.oomKills = oomKills
        self.tasksLimitHits = tasksLimitHits
    }

    /// Reads the cgroup's files; nil when the cgroup is gone.
    init?(_ cgroup: Cgroup) {
        // cpu.stat is a core file of every cgroup (with or without the cpu controller): without it the cgroup is gone.
        guard let cpu = cgroup.read("cpu.stat") else { return nil }
        let memoryMax = cgroup.number("memory.max")
        let tasksMax = cgroup.number("pids.max")
        memoryCurrent = cgroup.number("memory.current") ?? 0
        memoryPeak = cgroup.number("memory.peak")
        self.memoryMax = memoryMax == .max ? nil : memoryMax
        tasksCurrent = cgroup.number("pids.current") ?? 0
        self.tasksMax = tasksMax == .max ? nil : tasksMax
        cpuMicroseconds = Cgroup.parseKeyed(cpu)["usage_usec"] ?? 0
        oomKills = cgroup.keyed("memory.events")["oom_kill"] ?? 0
        tasksLimitHits = cgroup.keyed("pids.events")["max"] ?? 0
    }
}
