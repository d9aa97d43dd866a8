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
    /// Processes the kernel OOM-killed in the scope (memory.events oom_kill); nil when it could not be read
    /// (unknown, which is not 0).
    public var oomKills: UInt64?
    /// Forks refused at the tasks limit (pids.events max); nil when it could not be read.
    public var tasksLimitHits: UInt64?

    package init(memoryCurrent: UInt64, memoryPeak: UInt64?, memoryMax: UInt64?, tasksCurrent: UInt64, tasksMax: UInt64?,
         cpuMicroseconds: UInt64, oomKills: UInt64?, tasksLimitHits: UInt64?) {
        self.memoryCurrent = memoryCurrent
        self.memoryPeak = memoryPeak
        self.memoryMax = memoryMax
        self.tasksCurrent = tasksCurrent
        self.tasksMax = tasksMax
        self.cpuMicroseconds = cpuMicroseconds
        self.oomKills = oomKills
        self.tasksLimitHits = tasksLimitHits
    }

    /// `self` with the higher counters and peaks of an earlier reading of the same cgroup (counters only grow; a
    /// known count beats an unknown one).
    package func keepingHighest(of earlier: Usage) -> Usage {
        var usage = self
        usage.oomKills = Self.highest(oomKills, earlier.oomKills)
        usage.tasksLimitHits = Self.highest(tasksLimitHits, earlier.tasksLimitHits)
        usage.memoryPeak = Self.highest(memoryPeak, earlier.memoryPeak)
        usage.cpuMicroseconds = max(cpuMicroseconds, earlier.cpuMicroseconds)
        return usage
    }

    private static func highest(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
        guard let a, let b else { return a ?? b }
        return max(a, b)
    }
}
