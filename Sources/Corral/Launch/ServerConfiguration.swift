internal import Glibc

/// Everything needed to start one MCP server in its own scope. Defaults are Corral's safe defaults.
public struct ServerConfiguration: Sendable {
    /// The environment the server gets.
    public enum Environment: Sendable, Equatable {
        /// This process's environment, as systemd-run --scope passes it.
        case inherit
        /// This process's environment with some variables set (or, with nil, removed).
        case updating([String: String?])
        /// Only the named variables of this process's environment, plus `adding` (MCP SDK clients pass HOME,
        /// LOGNAME, PATH, SHELL, TERM and USER).
        case allowlist([String], adding: [String: String] = [:])
        /// Exactly these variables.
        case custom([String: String])
    }

    /// Where one of the server's standard streams goes.
    public enum Stream: Sendable, Equatable {
        /// The same descriptor as this process's.
        case inherit
        /// A pipe whose other end the `ServerProcess` holds (for a gateway that talks to the server).
        case pipe
        /// /dev/null.
        case null
        /// A descriptor of this process.
        case fileDescriptor(Int32)
        /// A pipe that Corral copies to this descriptor as the server writes, keeping its last lines in
        /// `standardErrorTail` (stderr only; what `corral run` does).
        case relay(to: Int32)
    }

    /// What to do where the host cannot give a server Corral's whole containment (rootless without user
    /// namespaces: no cgroup namespace, no private mounts; see `HostIsolation`).
    public enum Containment: Sendable, Equatable {
        /// Run with what the host allows (limits, no_new_privs, seccomp) and say what is lost through
        /// `warningHandler`, once per process.
        case automatic
        /// Refuse to start (`CorralError.Code.unsupportedHost`) unless the whole containment holds.
        case strict
    }

    /// A command name looked up on PATH, or a path.
    public var executable: String
    public var arguments: [String]
    public var environment: Environment = .inherit
    public var workingDirectory: String?
    /// The server's name; derived from the command when nil (`ServerName.derived(from:)`).
    public var name: String?
    public var limits = Limits()
    /// The seccomp profile; nil runs the server without one (no_new_privs is still set).
    public var seccomp: SeccompProfile? = .default
    /// The server's oom_score_adj: by default 500, so the kernel picks MCP servers long before sshd or the gateway.
    public var oomScoreAdjust: Int32? = 500
    /// Whether a weaker containment than Corral's whole one is acceptable where the host forces it.
    public var containment: Containment = .automatic
    /// Leaves the server its paths to systemd's managers (the system bus, /run/systemd/private, the user bus and
    /// the user manager's private socket), which are otherwise covered by /dev/null in its mount namespace. Costs
    /// the containment: over them the server can have units started outside its scope and its limits (and as
    /// root, whatever the system bus lets root do).
    public var allowsBuses = false
    /// The user the server runs as (a name or a number), like systemd's User=; nil: this process's user. Other
    /// than our own, this needs root. Supplementary groups are set as login sets them (getgrouplist).
    public var user: String?
    /// The group the server runs as (a name or a number); nil: the user's primary group.
    public var group: String?
    /// Capabilities a root server keeps, by name ("CAP_NET_BIND_SERVICE"); by default it keeps none. Needs root.
    public var capabilities: [String] = []
    /// What the server may see of the filesystem and the network (Landlock, its mount and network namespaces);
    /// by default, what its user sees.
    public var sandbox = Sandbox()
    /// The slice all servers share; its own limits bound them together.
    public var slice = "corral.slice"
    public var manager: SystemdBus.Manager = .automatic
    public var standardInput: Stream = .inherit
    public var standardOutput: Stream = .inherit
    public var standardError: Stream = .inherit
    /// Backoff, circuit breaker and instance cap across invocations (state in `StateStore`); nil turns them off.
    public var guardrails: GuardrailPolicy? = GuardrailPolicy()
    /// Told about things worth a warning that are not errors (a reset corrupt state file). Default: ignored.
    public var warningHandler: @Sendable (String) -> Void = { _ in }
    /// Sent to the server's main process when this process dies (the rest of its scope is cleaned by `corral gc`).
    public var parentDeathSignal: Int32? = SIGKILL

    public init(executable: String, arguments: [String] = []) {
        self.executable = executable
        self.arguments = arguments
    }

    /// A configuration built by `configure`, as in `ServerConfiguration(executable: "uvx", arguments: ["x"]) { $0.limits.tasksMax = .count(64) }`.
    public init(executable: String, arguments: [String] = [],
                configure: (inout ServerConfiguration) throws -> Void) rethrows {
        self.init(executable: executable, arguments: arguments)
        try configure(&self)
    }

    /// The server name this configuration resolves to.
    public func serverName() throws(CorralError) -> ServerName {
        try ServerName(name ?? ServerName.derived(from: [executable] + arguments))
    }

    /// The environment as KEY=VALUE strings.
    func environmentStrings() -> [String] {
        var current: [(String, String)] = []
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                current.append((String(text[..<equals]), String(text[text.index(after: equals)...])))
            }
            pointer += 1
        }
        func render(_ pairs: [(String, String)]) -> [String] { pairs.map { "\($0.0)=\($0.1)" } }
        switch environment {
        case .inherit:
            return render(current)
        case .updating(let changes):
            var pairs = current.filter { changes[$0.0] == nil }
            for (key, value) in changes.sorted(by: { $0.key < $1.key }) { if let value { pairs.append((key, value)) } }
            return render(pairs)
        case .allowlist(let names, let adding):
            let kept = current.filter { names.contains($0.0) && adding[$0.0] == nil }
            return render(kept + adding.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) })
        case .custom(let values):
            return render(values.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) })
        }
    }
}
