internal import CSystemdShim
internal import Glibc

/// The one path from a configuration to a contained server, taken by `ServerProcess.spawn` and by `corral run` in
/// both its modes: everything checkable is checked first, the seccomp filter is compiled, the child is forked and held
/// at a gate, the scope is created around it, the limits are verified in its cgroup, and only then may it run.
struct Spawner: Sendable {
    let configuration: ServerConfiguration
    let name: ServerName
    let path: String
    let environment: [String]
    let manager: SystemdBus.Manager
    /// The guardrails this start passes through; nil when they are off.
    let guardrails: ServerGuardrails?

    /// Validates the configuration and resolves the command without starting anything.
    init(_ configuration: ServerConfiguration) throws(CorralError) {
        self.configuration = configuration
        name = try configuration.serverName()
        if let adjust = configuration.oomScoreAdjust {
            _ = try BoundedNumber.parse(String(adjust), field: "oom_score_adj", in: BoundedNumber.oomScoreAdjust)
        }
        try SliceName.validate(configuration.slice)
        if let directory = configuration.workingDirectory {
            var info = stat()
            guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw .invalid("working directory", directory, "no such directory")
            }
        }
        environment = configuration.environmentStrings()
        let searchPath = environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
        path = try Executable.resolve(configuration.executable, path: searchPath)
        guard Cgroup.isUnifiedHierarchy else {
            throw CorralError(.unsupportedHost, "\(Cgroup.root) is not a cgroup v2 (unified) hierarchy; Corral needs systemd on cgroup v2 (boot with systemd.unified_cgroup_hierarchy=1)", stage: "statfs")
        }
        manager = configuration.manager
        let name = name
        guardrails = configuration.guardrails.map { policy in
            ServerGuardrails(store: StateStore.forManager(configuration.manager, warn: configuration.warningHandler),
                             policy: policy, name: name)
        }
    }

    /// The seccomp filter, compiled before anything is forked.
    func compileFilter() throws(CorralError) -> SeccompFilter? {
        guard let profile = configuration.seccomp else { return nil }
        let available = cs_seccomp_available()
        guard available >= 0 else {
            throw CorralError(.unsupportedHost, "this kernel does not support seccomp filters (\(errnoText(-available))); run with --seccomp none to start without one", stage: "seccomp", errno: -available)
        }
        let filter = try SeccompFilter(profile)
        if !filter.unknownRefusals.isEmpty {
            configuration.warningHandler("the seccomp profile refuses syscalls this libseccomp does not know, so they are not refused: \(filter.unknownRefusals.joined(separator: ", ")) (a typo, or a libseccomp older than the kernel)")
        }
        return filter
    }

    /// The scope's properties: identity, placement, accounting, the limits, and the process it holds.
    func properties(holding pid: Int32) -> [UnitProperty] {
        let command = ([configuration.executable] + configuration.arguments).joined(separator: " ")
        return [
            UnitProperty("Description", .string("Corral MCP server \(name): \(command.prefix(120))")),
            UnitProperty("Slice", .string(configuration.slice)),
            // One OOM kill takes the whole tree down together (memory.oom.group), never a stray half of it.
            UnitProperty("OOMPolicy", .string("kill")),
            UnitProperty("MemoryAccounting", .bool(true)),
            UnitProperty("TasksAccounting", .bool(true)),
        ] + configuration.limits.unitProperties + [UnitProperty("PIDs", .pids([UInt32(pid)]))]
    }

    /// Creates the scope around `pid` and checks that its cgroup can enforce every limit asked for. On failure
    /// nothing is left: the scope is stopped again.
    func createScope(holding pid: Int32, bus: SystemdBus) async throws(CorralError) -> (unit: String, cgroup: Cgroup) {
        try await ServerSlice.ensure(configuration.slice, bus: bus)
        var unit = name.newUnitName()
        do {
            try await bus.startTransientUnit(unit, properties: properties(holding: pid))
        } catch where error.busErrorName == "org.freedesktop.systemd1.UnitExists" {
            // As crun does: clear a failed leftover and try once more, here under a fresh name.
            try? await bus.resetFailedUnit(unit)
            unit = name.newUnitName()
            try await bus.startTransientUnit(unit, properties: properties(holding: pid))
        }
        do throws(CorralError) {
            let cgroup = try Cgroup(pid: pid)
            guard cgroup.name == unit else {
                cgroup.close()
                throw CorralError(.unitFailed, "process \(pid) is in \(cgroup.path), not in its new scope \(unit)", stage: "StartTransientUnit")
            }
            let available = cgroup.controllers
            if let missing = configuration.limits.requiredControllers.first(where: { !available.contains($0) }) {
                cgroup.close()
                throw missingController(missing, in: cgroup.path)
            }
            return (unit, cgroup)
        } catch {
            try? await bus.stopUnit(unit)
            throw error
        }
    }

    private func missingController(_ controller: String, in path: String) -> CorralError {
        let limit = ["memory": "memory limits", "pids": "the tasks limit", "cpu": "the CPU quota or weight",
                     "io": "the IO weight"][controller] ?? controller
        let fix = manager == .user
            ? "The \(controller) controller is not delegated to your user manager. Delegate it with a drop-in /etc/systemd/system/user@.service.d/delegate.conf containing [Service] Delegate=cpu cpuset io memory pids, then run `systemctl daemon-reload` and log in again; or drop the option that needs it."
            : "Is it disabled on the kernel command line (cgroup_disable=\(controller)) or missing from \(Cgroup.root)/cgroup.controllers?"
        return CorralError(.unsupportedHost,
                           "cannot enforce \(limit): the \(controller) controller is not available in \(Cgroup.root)\(path). \(fix)",
                           stage: "cgroup.controllers")
    }

    /// Starts the server as a child held in its scope (monitor mode, and the library) and hands it over running.
    func launch() async throws(CorralError) -> LaunchedServer {
        let admission = try await guardrails?.admit()
        var executed = false
        defer { if !executed { admission?.abandon() } }
        let bus = try SystemdBus.shared(manager)
        let filter = try compileFilter()
        let stdio = try StandardStreams(configuration)
        let image = ProcessImage(path: path, configuration, environment: environment, filter: filter, stdio: stdio.childEnds)
        let forked = await Reactor.shared.perform { image.forkGated() }
        stdio.closeChildEnds()
        let (pid, gate): (Int32, Int32)
        switch forked {
        case .success(let child): (pid, gate) = child
        case .failure(let error):
            stdio.closeParentEnds()
            throw error
        }
        let scope: (unit: String, cgroup: Cgroup)
        do {
            scope = try await createScope(holding: pid, bus: bus)
        } catch {
            cs_spawn_abort(pid, gate)
            stdio.closeParentEnds()
            throw error
        }
        // The exit is watched through a pidfd: without one the server could never be waited for.
        let pidfd = cs_pidfd_open(pid)
        guard pidfd >= 0 else {
            cs_spawn_abort(pid, gate)
            try? await bus.stopUnit(scope.unit)
            scope.cgroup.close()
            stdio.closeParentEnds()
            throw CorralError(.system, "cannot watch the server's exit: pidfd_open: \(errnoText(-pidfd))", stage: "pidfd_open", errno: -pidfd)
        }
        // Recorded before the server runs: a monitor killed from here on leaves a scope that the instance cap counts.
        let launched = admission?.launched(in: scope.cgroup.path)
        launched?.recordRunning(unit: scope.unit, monitorPID: getpid(), mainPID: pid)
        var stage = CS_STAGE_NONE
        let released = cs_spawn_release(gate, &stage)
        guard released >= 0 else {
            launched?.recordGone(unit: scope.unit)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && Glibc.errno == EINTR {}
            close(pidfd)
            _ = scope.cgroup.kill()
            try? await bus.stopUnit(scope.unit)
            scope.cgroup.close()
            stdio.closeParentEnds()
            throw failure(at: stage, errno: -released)
        }
        executed = true
        admission?.ran()
        var relay: Int32?
        if case .relay(let target) = configuration.standardError { relay = target }
        return LaunchedServer(pid: pid, pidfd: pidfd, unit: scope.unit, name: name, cgroup: scope.cgroup, bus: bus,
                              standardStreams: stdio.parentEnds, relayStandardErrorTo: relay,
                              guardrails: launched)
    }

    /// Moves this very process into the scope, contains it and execs the server (`corral run --exec`, like
    /// `systemd-run --scope`). Returns only by throwing.
    func execInPlace() async throws(CorralError) -> Never {
        let admission = try await guardrails?.admit()
        let image: ProcessImage
        let scope: (unit: String, cgroup: Cgroup)
        do {
            let bus = try SystemdBus.shared(manager)
            image = ProcessImage(path: path, configuration, environment: environment, filter: try compileFilter(),
                                 stdio: [-1, -1, -1])
            scope = try await createScope(holding: getpid(), bus: bus)
        } catch {
            admission?.abandon()
            throw error
        }
        // No corral stays to see this server end: the next start of it learns of the end (ServerGuardrails.admit).
        admission?.launched(in: scope.cgroup.path).recordRunning(unit: scope.unit, monitorPID: 0, mainPID: getpid())
        admission?.ran()
        scope.cgroup.close()
        var stage = CS_STAGE_NONE
        let error = image.exec(&stage)
        guardrails?.recordGone(unit: scope.unit)
        throw failure(at: stage, errno: -error)
    }

    /// The error for a child that failed between the gate and exec.
    private func failure(at stage: cs_spawn_stage, errno: Int32) -> CorralError {
        let text = errnoText(errno)
        switch stage {
        case CS_STAGE_EXEC:
            return CorralError(errno == ENOENT ? .commandNotFound : .commandNotExecutable,
                               "cannot execute '\(path)': \(text)", stage: "execve", errno: errno)
        case CS_STAGE_SECCOMP:
            return CorralError(.unsupportedHost, "the kernel refused the seccomp filter: \(text)", stage: "seccomp", errno: errno)
        case CS_STAGE_CHDIR:
            return CorralError(.invalidConfiguration, "cannot change to the working directory: \(text)", stage: "chdir", errno: errno)
        default:
            let names = [CS_STAGE_STDIO: "dup2", CS_STAGE_OOM_SCORE_ADJ: "oom_score_adj",
                         CS_STAGE_NO_NEW_PRIVS: "prctl(PR_SET_NO_NEW_PRIVS)", CS_STAGE_PARENT_DEATH_SIGNAL: "prctl(PR_SET_PDEATHSIG)"]
            let name = names[stage] ?? "spawn"
            return CorralError(.system, "the server could not be prepared (\(name)): \(text)", stage: name, errno: errno)
        }
    }
}
