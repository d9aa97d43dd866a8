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

    /// The image of `configuration`'s server: `path` is its resolved executable, `environment` its KEY=VALUE list.
    init(path: String, _ configuration: ServerConfiguration, environment: [String], filter: SeccompFilter?, stdio: [Int32]) {
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
    }

    deinit { program?.deallocate() }

    private func withSpec<T>(_ body: (inout cs_spawn_spec) -> T) -> T {
        var spec = cs_spawn_spec(
            path: path[0], argv: argv.pointers, envp: envp.pointers, directory: directory.map { $0[0] },
            stdin_fd: stdio[0], stdout_fd: stdio[1], stderr_fd: stdio[2],
            seccomp_program: program.map { UnsafePointer($0.baseAddress!) }, seccomp_length: program?.count ?? 0,
            oom_score_adj: oomScoreAdjust ?? 0, set_oom_score_adj: oomScoreAdjust == nil ? 0 : 1,
            parent_death_signal: parentDeathSignal)
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

    /// Contains this process and execs; returns -errno only on failure.
    func exec(_ stage: inout cs_spawn_stage) -> Int32 {
        withSpec { cs_exec(&$0, &stage) }
    }
}
