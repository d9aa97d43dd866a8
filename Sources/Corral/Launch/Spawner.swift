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
    /// The namespaces, hidden sockets and credentials the child takes on before exec.
    let isolation: Isolation
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
        let host = HostIsolation.current
        isolation = try Isolation(configuration, executable: path, environment: environment, host: host)
        HostIsolation.warnOnce(host.weaknesses(seccomp: configuration.seccomp), configuration.warningHandler)
        manager = configuration.manager
        let name = name
        guardrails = configuration.guardrails.map { policy in
            ServerGuardrails(store: StateStore.forManager(configuration.manager, warn: configuration.warningHandler),
                             policy: policy, name: name)
        }
    }

    /// The seccomp filter, compiled before anything is forked.
    func compileFilter() throws(CorralError) -> SeccompFilter? {
        guard var profile = configuration.seccomp else { return nil }
        if isolation.refusesTruncation, let refusing = profile.refusingTruncation() { profile = refusing }
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

    /// The scope's properties: identity, placement (in `slice`), accounting, the limits, and the process it holds.
    /// A scope with a monitor is collected even when it failed: its outcome is read from its leaf slice.
    func properties(holding pid: Int32, in slice: String, monitored: Bool) -> [UnitProperty] {
        let command = ([configuration.executable] + configuration.arguments).joined(separator: " ")
        return [
            UnitProperty("Description", .string("Corral MCP server \(name): \(command.prefix(120))")),
            UnitProperty("Slice", .string(slice)),
            // One OOM kill takes the whole tree down together (memory.oom.group), never a stray half of it.
            UnitProperty("OOMPolicy", .string("kill")),
            UnitProperty("MemoryAccounting", .bool(true)),
            UnitProperty("TasksAccounting", .bool(true)),
        ] + (monitored ? [UnitProperty("CollectMode", .string("inactive-or-failed"))] : [])
            + configuration.limits.unitProperties + [UnitProperty("PIDs", .pids([UInt32(pid)]))]
    }

    /// Starts scope `unit` around `pid`; with a monitor, in its own leaf slice created by the same call.
    private func startScope(_ unit: String, holding pid: Int32, monitored: Bool, bus: SystemdBus) async throws(CorralError) {
        let leaf = monitored ? SliceName.leaf(of: unit, in: configuration.slice) : nil
        let auxiliary = leaf.map { leaf in
            (unit: leaf, properties: [
                UnitProperty("Description", .string(SliceName.leafDescription(of: unit, monitor: getpid()))),
                UnitProperty("MemoryAccounting", .bool(true)),
                UnitProperty("TasksAccounting", .bool(true)),
            ])
        }
        try await bus.startTransientUnit(unit, properties: properties(holding: pid, in: leaf ?? configuration.slice, monitored: monitored),
                                         auxiliary: auxiliary)
    }

    /// Creates the scope around `pid` (`monitored`: in its own leaf slice, for a server whose end this process
    /// watches) and checks that its cgroup can enforce every limit asked for. On failure nothing is left: the scope
    /// (and its leaf) is stopped again.
    func createScope(holding pid: Int32, monitored: Bool, bus: SystemdBus) async throws(CorralError) -> ServerScope {
        try await ServerSlice.ensure(configuration.slice, bus: bus)
        var unit = name.newUnitName()
        do {
            try await startScope(unit, holding: pid, monitored: monitored, bus: bus)
        } catch where error.busErrorName == "org.freedesktop.systemd1.UnitExists" {
            // As crun does: clear a failed leftover and try once more, here under a fresh name (and leaf).
            try? await bus.resetFailedUnit(unit)
            unit = name.newUnitName()
            try await startScope(unit, holding: pid, monitored: monitored, bus: bus)
        }
        let leaf = monitored ? SliceName.leaf(of: unit, in: configuration.slice) : nil
        do throws(CorralError) {
            let cgroup = try Cgroup(pid: pid)
            let parent = cgroup.parentPath
            guard cgroup.name == unit, leaf.map({ parent.hasSuffix("/" + $0) }) ?? true else {
                cgroup.close()
                throw CorralError(.unitFailed, "process \(pid) is in \(cgroup.path), not in its new scope \(unit)\(leaf.map { " in \($0)" } ?? "")", stage: "StartTransientUnit")
            }
            let available = cgroup.controllers
            if let missing = configuration.limits.requiredControllers.first(where: { !available.contains($0) }) {
                cgroup.close()
                throw missingController(missing, in: cgroup.path)
            }
            guard let leaf else { return ServerScope(unit: unit, cgroup: cgroup, leaf: nil) }
            do throws(CorralError) {
                return ServerScope(unit: unit, cgroup: cgroup, leaf: (leaf, try Cgroup(path: parent)))
            } catch {
                cgroup.close()
                throw error
            }
        } catch {
            try? await bus.stopUnit(leaf ?? unit)
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
        let image = ProcessImage(path: path, configuration, environment: environment, filter: filter,
                                 isolation: isolation, stdio: stdio.childEnds)
        let forked = await Reactor.shared.perform { image.forkGated() }
        stdio.closeChildEnds()
        let (pid, gate): (Int32, Int32)
        switch forked {
        case .success(let child): (pid, gate) = child
        case .failure(let error):
            stdio.closeParentEnds()
            throw error
        }
        let scope: ServerScope
        do {
            scope = try await createScope(holding: pid, monitored: true, bus: bus)
        } catch {
            cs_spawn_abort(pid, gate)
            stdio.closeParentEnds()
            throw error
        }
        // The exit is watched through a pidfd: without one the server could never be waited for.
        let pidfd = cs_pidfd_open(pid)
        guard pidfd >= 0 else {
            cs_spawn_abort(pid, gate)
            try? await bus.stopUnit(scope.outermostUnit)
            scope.close()
            stdio.closeParentEnds()
            throw CorralError(.system, "cannot watch the server's exit: pidfd_open: \(errnoText(-pidfd))", stage: "pidfd_open", errno: -pidfd)
        }
        // Recorded before the server runs: a monitor killed from here on leaves a scope that the instance cap counts.
        let launched = admission?.launched(in: scope.cgroup.path)
        launched?.recordRunning(unit: scope.unit, monitorPID: getpid(), mainPID: pid)
        var failure = cs_spawn_failure()
        let released = cs_spawn_release(gate, &failure)
        guard released >= 0 else {
            launched?.recordGone(unit: scope.unit)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && Glibc.errno == EINTR {}
            close(pidfd)
            _ = scope.cgroup.kill()
            try? await bus.stopUnit(scope.outermostUnit)
            scope.close()
            stdio.closeParentEnds()
            throw Self.failure(at: failure, errno: -released, path: path, isolation: isolation)
        }
        executed = true
        admission?.ran()
        var relay: Int32?
        if case .relay(let target) = configuration.standardError { relay = target }
        return LaunchedServer(pid: pid, pidfd: pidfd, scope: scope, name: name, bus: bus,
                              standardStreams: stdio.parentEnds, relayStandardErrorTo: relay,
                              guardrails: launched)
    }

    /// Moves this very process into the scope, contains it and execs the server (`corral run --exec`, like
    /// `systemd-run --scope`). Returns only by throwing.
    func execInPlace() async throws(CorralError) -> Never {
        let admission = try await guardrails?.admit()
        let image: ProcessImage
        let scope: ServerScope
        do {
            let bus = try SystemdBus.shared(manager)
            image = ProcessImage(path: path, configuration, environment: environment, filter: try compileFilter(),
                                 isolation: isolation, stdio: [-1, -1, -1])
            scope = try await createScope(holding: getpid(), monitored: false, bus: bus)
        } catch {
            admission?.abandon()
            throw error
        }
        // No corral stays to see this server end: the next start of it learns of the end (ServerGuardrails.admit).
        admission?.launched(in: scope.cgroup.path).recordRunning(unit: scope.unit, monitorPID: 0, mainPID: getpid())
        admission?.ran()
        scope.close()
        var failure = cs_spawn_failure()
        let error = image.exec(&failure)
        guardrails?.recordGone(unit: scope.unit)
        throw Self.failure(at: failure, errno: -error, path: path, isolation: isolation)
    }

    /// The error for a child that failed between the gate and exec; `path` is the server's executable, `isolation`
    /// what it was to take on (the details of some stages index its paths).
    static func failure(at failure: cs_spawn_failure, errno: Int32, path: String, isolation: Isolation?) -> CorralError {
        let text = errnoText(errno)
        let step = stageName(failure.stage, detail: failure.detail, isolation: isolation)
        switch failure.stage {
        case CS_STAGE_EXEC:
            return CorralError(errno == ENOENT ? .commandNotFound : .commandNotExecutable,
                               "cannot execute '\(path)': \(text)", stage: step, errno: errno)
        case CS_STAGE_SECCOMP:
            return CorralError(.unsupportedHost, "the kernel refused the seccomp filter: \(text)", stage: step, errno: errno)
        case CS_STAGE_CHDIR:
            return CorralError(.invalidConfiguration, "cannot change to the working directory: \(text)", stage: step, errno: errno)
        case CS_STAGE_LANDLOCK_PATH:
            return CorralError(.inputUnavailable, "the server's user cannot reach a path of its sandbox (\(step)): \(text)", stage: step, errno: errno)
        case CS_STAGE_USER_NAMESPACE, CS_STAGE_UID_MAP, CS_STAGE_GID_MAP, CS_STAGE_NAMESPACES, CS_STAGE_PROPAGATION,
             CS_STAGE_HIDE, CS_STAGE_SYS_READ_ONLY, CS_STAGE_CGROUP_MOUNT, CS_STAGE_PROC_READ_ONLY, CS_STAGE_COVER,
             CS_STAGE_LOOPBACK, CS_STAGE_LANDLOCK_RULESET, CS_STAGE_LANDLOCK_PORT, CS_STAGE_LANDLOCK_RESTRICT:
            return CorralError(.unsupportedHost, "the server could not be contained (\(step)): \(text)", stage: step, errno: errno)
        default:
            return CorralError(.system, "the server could not be prepared (\(step)): \(text)", stage: step, errno: errno)
        }
    }

    /// The system call behind a spawn stage, as error messages name it.
    static func stageName(_ stage: cs_spawn_stage, detail: Int32, isolation: Isolation?) -> String {
        func at<T>(_ list: [T]?, _ name: (T) -> String) -> String? {
            guard let list, detail >= 0, Int(detail) < list.count else { return nil }
            return name(list[Int(detail)])
        }
        let hidden = isolation?.hidden ?? []
        return switch stage {
        case CS_STAGE_STDIO: "dup2"
        case CS_STAGE_CHDIR: "chdir"
        case CS_STAGE_PARENT_DEATH_SIGNAL: "prctl(PR_SET_PDEATHSIG)"
        case CS_STAGE_OOM_SCORE_ADJ: "oom_score_adj"
        case CS_STAGE_NO_NEW_PRIVS: "prctl(PR_SET_NO_NEW_PRIVS)"
        case CS_STAGE_SECCOMP: "seccomp"
        case CS_STAGE_EXEC: "execve"
        case CS_STAGE_USER_NAMESPACE: "unshare(user)"
        case CS_STAGE_UID_MAP: "uid_map"
        case CS_STAGE_GID_MAP: "gid_map"
        case CS_STAGE_NAMESPACES:
            (isolation?.flags ?? 0) & UInt32(CS_CONTAIN_NETWORK.rawValue) != 0 ? "unshare(cgroup, mount, network)" : "unshare(cgroup, mount)"
        case CS_STAGE_PROPAGATION: "mount(/, slave)"
        case CS_STAGE_HIDE:
            detail < 0 ? "mount(tmpfs over /run/user)"
                : "mount(/dev/null over \(detail < hidden.count ? hidden[Int(detail)] : "a bus socket"))"
        case CS_STAGE_SYS_READ_ONLY: "mount_setattr(/sys, read-only)"
        case CS_STAGE_CGROUP_MOUNT: "fsmount(cgroup2)"
        case CS_STAGE_PROC_READ_ONLY: detail == 0 ? "mount(/proc/sys, read-only)" : "mount(/proc/sysrq-trigger, read-only)"
        case CS_STAGE_SECUREBITS: "prctl(PR_SET_SECUREBITS)"
        case CS_STAGE_BOUNDING_SET: "prctl(PR_CAPBSET_DROP)"
        case CS_STAGE_SETGROUPS: "setgroups"
        case CS_STAGE_SETRESGID: "setresgid"
        case CS_STAGE_SETRESUID: "setresuid"
        case CS_STAGE_CAPSET: "capset"
        case CS_STAGE_AMBIENT: "prctl(PR_CAP_AMBIENT)"
        case CS_STAGE_COVER: "mount(over --hide \(at(isolation?.covers, \.path) ?? "path"))"
        case CS_STAGE_LOOPBACK: "ioctl(SIOCSIFFLAGS, lo)"
        case CS_STAGE_LANDLOCK_RULESET: "landlock_create_ruleset"
        case CS_STAGE_LANDLOCK_PATH: "landlock_add_rule(\(at(isolation?.pathRules, \.path) ?? "path"))"
        case CS_STAGE_LANDLOCK_PORT: "landlock_add_rule(port \(at(isolation?.portRules, { String($0.port) }) ?? "?"))"
        case CS_STAGE_LANDLOCK_RESTRICT: "landlock_restrict_self"
        default: "spawn"
        }
    }
}
