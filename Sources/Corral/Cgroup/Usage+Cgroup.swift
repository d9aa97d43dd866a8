extension Usage {
    /// Reads the cgroup's files; nil when the cgroup is gone. A counter file that cannot be read is unknown (nil).
    init?(_ cgroup: Cgroup) {
        // cpu.stat is a core file of every cgroup (with or without the cpu controller): without it the cgroup is gone.
        guard let cpu = cgroup.read("cpu.stat") else { return nil }
        let memoryMax = cgroup.number("memory.max")
        let tasksMax = cgroup.number("pids.max")
        self.init(memoryCurrent: cgroup.number("memory.current") ?? 0, memoryPeak: cgroup.number("memory.peak"),
                  memoryMax: memoryMax == .max ? nil : memoryMax, tasksCurrent: cgroup.number("pids.current") ?? 0,
                  tasksMax: tasksMax == .max ? nil : tasksMax, cpuMicroseconds: CgroupFiles.keyed(cpu)["usage_usec"] ?? 0,
                  oomKills: cgroup.counter("memory.events", "oom_kill"),
                  tasksLimitHits: cgroup.counter("pids.events", "max"))
    }
}
