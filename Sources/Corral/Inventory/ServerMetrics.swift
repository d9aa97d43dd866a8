/// Corral's servers as Prometheus metrics: what `corral metrics` prints, and what a gateway can serve on its own
/// /metrics endpoint. Per instance (labels `server`, `unit`): usage and limits from the scope's cgroup; per server
/// (label `server`): the guardrail state all its instances share; totals; and corral.slice.
public enum ServerMetrics {
    /// One metric family: its name, type, labels and meaning.
    public struct Family: Sendable {
        public let name: String
        let kind: Exposition.Kind
        public let labels: [String]
        public let help: String
        let samples: @Sendable (Snapshot) -> [Exposition.Sample]

        /// "gauge" or "counter".
        public var type: String { kind.rawValue }
    }

    /// What the metrics are computed from, read once.
    struct Snapshot {
        var instances: [ServerInstance]
        /// corral.slice's usage; nil when the slice does not exist.
        var slice: Usage?
        /// Boot time (see `BootTime`), the clock of refusals and uptimes.
        var now: Double
        /// Wall clock less boot time, for the start times the metrics tell in Unix time.
        var wallClockOffset = 0.0

        /// One sample per instance with a readable cgroup, labelled server and unit.
        func perInstance(_ value: (ServerInstance, Usage) -> Exposition.Value?) -> [Exposition.Sample] {
            instances.compactMap { instance in
                guard let unit = instance.unit, let usage = instance.usage, let value = value(instance, usage) else { return nil }
                return Exposition.Sample([("server", instance.name.rawValue), ("unit", unit)], value)
            }
        }

        /// One row per server name: its guardrail state is shared by all its instances.
        var servers: [ServerInstance] {
            var seen = Set<ServerName>()
            return instances.filter { seen.insert($0.name).inserted }
        }

        /// One sample per server name, labelled server.
        func perServer(_ value: (ServerInstance) -> Exposition.Value) -> [Exposition.Sample] {
            servers.map { Exposition.Sample([("server", $0.name.rawValue)], value($0)) }
        }

        /// The slice's sample, when the slice exists.
        func ofSlice(_ value: (Usage) -> Exposition.Value) -> [Exposition.Sample] {
            slice.map { [Exposition.Sample([("slice", ServerSlice.defaultName)], value($0))] } ?? []
        }
    }

    /// The metrics of an inventory's servers and of its manager's corral.slice, in the text exposition format 0.0.4.
    public static func exposition(_ inventory: Inventory) -> String {
        var slice: Usage?
        if let cgroup = try? Cgroup(path: ServerSlice.cgroupPath(ServerSlice.defaultName, manager: inventory.manager)) {
            slice = Usage(cgroup)
            cgroup.close()
        }
        return exposition(Snapshot(instances: inventory.instances, slice: slice, now: BootTime.now, wallClockOffset: BootTime.wallClockOffset))
    }

    static func exposition(_ snapshot: Snapshot) -> String {
        var exposition = Exposition()
        for family in families {
            exposition.add(family.name, family.kind, help: family.help, samples: family.samples(snapshot))
        }
        return exposition.text
    }

    /// Every family Corral exports, in the order it writes them.
    public static let families: [Family] = [
        Family(name: "corral_servers_running", kind: .gauge, labels: [],
               help: "Scopes of Corral servers that systemd runs and whose monitor is alive.") { snapshot in
            [Exposition.Sample([], .integer(UInt64(snapshot.instances.filter(isUp).count)))]
        },
        Family(name: "corral_servers_stale", kind: .gauge, labels: [],
               help: "Scopes whose monitor is gone or that systemd keeps as failed (corral gc cleans them up).") { snapshot in
            [Exposition.Sample([], .integer(UInt64(snapshot.instances.filter(\.stale).count)))]
        },
        Family(name: "corral_server_up", kind: .gauge, labels: instanceLabels,
               help: "1 when the scope runs and its monitor is alive, 0 when it is stale.") { snapshot in
            snapshot.instances.compactMap { instance in
                instance.unit.map { Exposition.Sample([("server", instance.name.rawValue), ("unit", $0)], .integer(isUp(instance) ? 1 : 0)) }
            }
        },
        Family(name: "corral_server_start_time_seconds", kind: .gauge, labels: instanceLabels,
               help: "When the instance started, in seconds since the Unix epoch.") { snapshot in
            snapshot.perInstance { instance, _ in
                instance.uptime.map { .real(((snapshot.now + snapshot.wallClockOffset - $0) * 1000).rounded() / 1000) }
            }
        },
        Family(name: "corral_server_memory_bytes", kind: .gauge, labels: instanceLabels,
               help: "Memory the scope uses now (memory.current).") { snapshot in
            snapshot.perInstance { _, usage in .integer(usage.memoryCurrent) }
        },
        Family(name: "corral_server_memory_peak_bytes", kind: .gauge, labels: instanceLabels,
               help: "The most memory the scope has used (memory.peak, Linux 5.19+).") { snapshot in
            snapshot.perInstance { _, usage in usage.memoryPeak.map { .integer($0) } }
        },
        Family(name: "corral_server_memory_max_bytes", kind: .gauge, labels: instanceLabels,
               help: "The scope's MemoryMax (memory.max); +Inf when unlimited.") { snapshot in
            snapshot.perInstance { _, usage in limit(usage.memoryMax) }
        },
        Family(name: "corral_server_tasks", kind: .gauge, labels: instanceLabels,
               help: "Processes and threads in the scope (pids.current).") { snapshot in
            snapshot.perInstance { _, usage in .integer(usage.tasksCurrent) }
        },
        Family(name: "corral_server_tasks_max", kind: .gauge, labels: instanceLabels,
               help: "The scope's TasksMax (pids.max); +Inf when unlimited.") { snapshot in
            snapshot.perInstance { _, usage in limit(usage.tasksMax) }
        },
        Family(name: "corral_server_cpu_seconds_total", kind: .counter, labels: instanceLabels,
               help: "CPU time the scope has used (cpu.stat usage_usec).") { snapshot in
            snapshot.perInstance { _, usage in .real(Double(usage.cpuMicroseconds) / 1_000_000) }
        },
        Family(name: "corral_server_oom_kills_total", kind: .counter, labels: instanceLabels,
               help: "Processes the kernel OOM-killed in the scope (memory.events oom_kill).") { snapshot in
            snapshot.perInstance { _, usage in usage.oomKills.map(Exposition.Value.integer) }
        },
        Family(name: "corral_server_tasks_limit_hits_total", kind: .counter, labels: instanceLabels,
               help: "Forks refused at the scope's TasksMax (pids.events max).") { snapshot in
            snapshot.perInstance { _, usage in usage.tasksLimitHits.map(Exposition.Value.integer) }
        },
        Family(name: "corral_server_restarts_total", kind: .counter, labels: ["server"],
               help: "Starts of the server after its first, since its guardrail state was created or reset.") { snapshot in
            snapshot.perServer { .integer(UInt64($0.restarts)) }
        },
        Family(name: "corral_server_consecutive_failures", kind: .gauge, labels: ["server"],
               help: "Fast failures in a row (exits sooner than --min-uptime).") { snapshot in
            snapshot.perServer { .integer(UInt64($0.consecutiveFailures)) }
        },
        Family(name: "corral_server_breaker_open", kind: .gauge, labels: ["server"],
               help: "1 when the server's circuit breaker is open or half-open (starts are refused), else 0.") { snapshot in
            snapshot.perServer { .integer($0.breaker == .closed ? 0 : 1) }
        },
        Family(name: "corral_server_breaker_state", kind: .gauge, labels: ["server", "state"],
               help: "1 for the breaker's current state (closed, open or half-open), 0 for the other two.") { snapshot in
            snapshot.servers.flatMap { server in
                [ServerState.Breaker.closed, .open, .halfOpen].map { state in
                    Exposition.Sample([("server", server.name.rawValue), ("state", state.rawValue)],
                                      .integer(state == server.breaker ? 1 : 0))
                }
            }
        },
        Family(name: "corral_server_start_refused_seconds", kind: .gauge, labels: ["server"],
               help: "Seconds until a start is let through (backoff, open breaker); 0 when it would start now.") { snapshot in
            snapshot.perServer { instance in .real(instance.refusedUntil.map { (max(0, $0 - snapshot.now) * 1000).rounded() / 1000 } ?? 0) }
        },
        Family(name: "corral_slice_memory_bytes", kind: .gauge, labels: ["slice"],
               help: "Memory all servers together use now (the slice's memory.current).") { snapshot in
            snapshot.ofSlice { .integer($0.memoryCurrent) }
        },
        Family(name: "corral_slice_memory_max_bytes", kind: .gauge, labels: ["slice"],
               help: "The slice's MemoryMax, bounding all servers together; +Inf when unlimited.") { snapshot in
            snapshot.ofSlice { limit($0.memoryMax) }
        },
        Family(name: "corral_slice_tasks", kind: .gauge, labels: ["slice"],
               help: "Processes and threads of all servers together (the slice's pids.current).") { snapshot in
            snapshot.ofSlice { .integer($0.tasksCurrent) }
        },
        Family(name: "corral_slice_tasks_max", kind: .gauge, labels: ["slice"],
               help: "The slice's TasksMax; +Inf when unlimited.") { snapshot in
            snapshot.ofSlice { limit($0.tasksMax) }
        },
    ]

    private static let instanceLabels = ["server", "unit"]

    private static func isUp(_ instance: ServerInstance) -> Bool { instance.isRunning && !instance.stale }

    private static func limit(_ value: UInt64?) -> Exposition.Value { value.map { .integer($0) } ?? .real(.infinity) }
}
