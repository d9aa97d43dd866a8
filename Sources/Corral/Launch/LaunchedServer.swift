/// What `Spawner.launch()` hands over: a server that has exec'd inside its verified scope, with everything the
/// `ServerProcess` handle then watches and owns (the pidfd, the open cgroup, its stdio ends).
struct LaunchedServer: Sendable {
    let pid: Int32
    let pidfd: Int32
    let unit: String
    let name: ServerName
    let cgroup: Cgroup
    let bus: SystemdBus
    /// The parent ends of stdin, stdout and stderr, where they are pipes.
    let standardStreams: [Int32?]
    /// Where stderr is copied to as it arrives, when it is relayed.
    let relayStandardErrorTo: Int32?
    let guardrails: ServerGuardrails?
}
