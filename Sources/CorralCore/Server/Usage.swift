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

    package init(memoryCurrent: UInt64, memoryPeak: UInt64?, memoryMax: UInt64?, tasksCurrent: UInt64, tasksMax: UInt64?,
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
}
