internal import CSystemdShim
internal import Glibc

/// The C strings and seccomp program a child is started from, kept alive (and in one place) for the spawn shim.
final class ProcessImage: @unchecked Sendable {
    private let path: CStringArray
    private let directory: CStringArray?
    private let argv: CStringArray
    private let envp: CStringArray
    private let program: UnsafeMutableBufferPointer<UInt8>?
    /// What the child's 0, 1 and 2 become (-1: inherit).
    private let stdio: [Int32]
    private let oomScoreAdjust: Int32?
    private let parentDeathSignal: Int32
    private let isolation: Isolation
    private let maps: CStringArray
    private let hidden: CStringArray
    private let coverPaths: CStringArray
    private let rulePaths: CStringArray
    private let covers: UnsafeMutableBufferPointer<cs_cover>
    private let pathRules: UnsafeMutableBufferPointer<cs_path_rule>
    private let portRules: UnsafeMutableBufferPointer<cs_port_rule>

    /// The image of `configuration`'s server: `path` is its resolved executable, `environment` its KEY=VALUE list.
    init(path: String, _ configuration: ServerConfiguration, environment: [String], filter: SeccompFilter?,
         isolation: Isolation, stdio: [Int32]) {
        self.path = CStringArray([path])
        directory = configuration.workingDirectory.map { CStringArray([$0]) }
        argv = CStringArray([configuration.executable] + configuration.arguments)
        envp = CStringArray(environment)
        program = filter.map { filter in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: filter.program.count)
            _ = buffer.initialize(from: filter.program)
            return buffer
        }
        self.stdio = stdio
        oomScoreAdjust = configuration.oomScoreAdjust
        parentDeathSignal = configuration.parentDeathSignal ?? 0
        self.isolation = isolation
        maps = CStringArray([isolation.uidMap ?? "", isolation.gidMap ?? ""])
        hidden = CStringArray(isolation.hidden)
        coverPaths = CStringArray(isolation.covers.map(\.path))
        rulePaths = CStringArray(isolation.pathRules.map(\.path))
        covers = .allocate(capacity: isolation.covers.count)
        for (i, cover) in isolation.covers.enumerated() {
            covers[i] = cs_cover(path: coverPaths[i], directory: cover.directory ? 1 : 0)
        }
        pathRules = .allocate(capacity: isolation.pathRules.count)
        for (i, rule) in isolation.pathRules.enumerated() {
            pathRules[i] = cs_path_rule(path: rulePaths[i], access: rule.access, optional: rule.optional ? 1 : 0)
        }
        portRules = .allocate(capacity: isolation.portRules.count)
        for (i, rule) in isolation.portRules.enumerated() { portRules[i] = cs_port_rule(port: rule.port, access: rule.access) }
    }

    /// Whether the containment needs a user namespace, which a multithreaded process cannot enter.
    var needsUserNamespace: Bool { isolation.flags & UInt32(CS_CONTAIN_USER_NAMESPACE.rawValue) != 0 }

    deinit {
        program?.deallocate()
        covers.deallocate()
        pathRules.deallocate()
        portRules.deallocate()
    }

    private func withSpec<T>(_ body: (inout cs_spawn_spec) -> T) -> T {
        isolation.groups.withUnsafeBufferPointer { groups in
            let containment = cs_containment(
                flags: isolation.flags, uid_map: isolation.uidMap == nil ? nil : maps[0],
                gid_map: isolation.gidMap == nil ? nil : maps[1], hidden: hidden.constPointers,
                hidden_count: hidden.count, uid: isolation.uid, gid: isolation.gid, groups: groups.baseAddress,
                group_count: groups.count, capabilities: isolation.capabilities,
                last_capability: isolation.lastCapability, covers: covers.baseAddress, cover_count: covers.count,
                landlock: cs_landlock(handled_fs: isolation.landlockFileSystem, handled_net: isolation.landlockNetwork,
                                      paths: pathRules.baseAddress, path_count: pathRules.count,
                                      ports: portRules.baseAddress, port_count: portRules.count))
            return withSpec(containment, body)
        }
    }

    private func withSpec<T>(_ containment: cs_containment, _ body: (inout cs_spawn_spec) -> T) -> T {
        var spec = cs_spawn_spec(
            path: path[0], argv: argv.pointers, envp: envp.pointers, directory: directory.map { $0[0] },
            stdin_fd: stdio[0], stdout_fd: stdio[1], stderr_fd: stdio[2],
            seccomp_program: program.map { UnsafePointer($0.baseAddress!) }, seccomp_length: program?.count ?? 0,
            oom_score_adj: oomScoreAdjust ?? 0, set_oom_score_adj: oomScoreAdjust == nil ? 0 : 1,
            parent_death_signal: parentDeathSignal, containment: containment)
        return body(&spec)
    }

    /// Forks the child, which waits at its gate. Call on the reactor thread (see `Reactor`).
    func forkGated() -> Result<(pid: Int32, gate: Int32), CorralError> {
        var pid: Int32 = 0
        var gate: Int32 = -1
        let status = withSpec { cs_spawn_gated(&$0, &pid, &gate) }
        guard status >= 0 else {
            return .failure(CorralError(.system, "cannot fork the server: \(errnoText(-status))", stage: "fork", errno: -status))
        }
        return .success((pid, gate))
    }

    /// Contains this process and execs; returns -errno only on failure. A containment with a user namespace
    /// goes through a fresh, single-threaded image of this program (cs_exec_contained), which must call
    /// `ProcessImage.resume` first thing.
    func exec(_ failure: inout cs_spawn_failure) -> Int32 {
        withSpec { spec in
            needsUserNamespace ? cs_exec_contained(&spec, Self.resumeMarker) : cs_exec(&spec, &failure)
        }
    }

    /// The argument that tells a program started by cs_exec_contained to resume.
    static let resumeMarker = "--corral-exec-contained"

    /// In a program started by cs_exec_contained with `arguments` (its argv without argv[0]): contains itself
    /// and execs the server. Returns nil when `arguments` are not that, else the error to report.
    static func resume(_ arguments: [String]) -> CorralError? {
        guard arguments.count == 3, arguments[0] == resumeMarker, let fd = Int32(arguments[1]) else { return nil }
        var failure = cs_spawn_failure()
        let status = cs_exec_resume(fd, &failure)
        return Spawner.failure(at: failure, errno: -status, path: arguments[2], isolation: nil)
    }
}
