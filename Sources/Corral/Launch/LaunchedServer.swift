/// What `Spawner.launch()` hands over: a server that has exec'd inside its verified scope, with everything the
/// `ServerProcess` handle then watches and owns (the pidfd, the open cgroups, its stdio ends).
struct LaunchedServer: Sendable {
    let pid: Int32
    let pidfd: Int32
    let scope: ServerScope
    let name: ServerName
    let bus: SystemdBus
    /// The parent ends of stdin, stdout and stderr, where they are pipes.
    let standardStreams: [Int32?]
    /// Where stderr is copied to as it arrives, when it is relayed.
    let relayStandardErrorTo: Int32?
    let guardrails: ServerGuardrails?
}

/// A server's scope as `Spawner.createScope` made it: the unit and its open cgroup and, for a server with a monitor,
/// the leaf slice that holds this scope alone. The leaf's memory.events is hierarchical and outlives the scope,
/// which systemd removes as soon as it is empty (an OOM kill empties it at once): the OOM count is read there.
struct ServerScope: Sendable {
    let unit: String
    let cgroup: Cgroup
    /// The leaf slice's unit and open cgroup; nil for `--exec`, where nobody would stop it.
    let leaf: (unit: String, cgroup: Cgroup)?
    /// The scope's memory.max and pids.max (nil for "max"), read as it is made, while its child is still held: an
    /// OOM kill can remove the scope before the server's end is read, and the report names the limit.
    let memoryMax: UInt64?, tasksMax: UInt64?

    init(unit: String, cgroup: Cgroup, leaf: (unit: String, cgroup: Cgroup)?) {
        self.unit = unit
        self.cgroup = cgroup
        self.leaf = leaf
        memoryMax = cgroup.number("memory.max").flatMap { $0 == .max ? nil : $0 }
        tasksMax = cgroup.number("pids.max").flatMap { $0 == .max ? nil : $0 }
    }

    /// What to stop to end it all: the leaf slice (its scope stops with it), or the scope.
    var outermostUnit: String { leaf?.unit ?? unit }

    func close() {
        cgroup.close()
        leaf?.cgroup.close()
    }
}
