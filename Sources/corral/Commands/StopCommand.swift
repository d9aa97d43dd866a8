import Corral
internal import Glibc

/// `corral stop NAME|UNIT...`: stops running servers from outside, the way their own corral would.
enum StopCommand {
    struct Options: ManagerCommandOptions {
        var manager = SystemdBus.Manager.automatic
        var grace: Duration = .seconds(2)
        var all = false
    }

    static let spec = CommandSpec<Options>(
        name: "stop",
        abstract: "stop running servers by name or scope unit",
        synopsis: "corral stop [--system|--user] [--grace TIME] [--all] NAME|UNIT...",
        discussion: """
            Stops every running instance of each named server (a NAME matches all of that server's scopes, a
            UNIT such as corral-time-1a2b3c4d.scope exactly one): SIGTERM to the server's main process (or, when
            it is not known, to every process of the scope), up to --grace for the scope to end, then SIGKILL to
            whatever is left and a stop of the scope. A server run by `corral run` ends its corral with it.
            Stale instances (see `corral ps`) are stopped too. Says on stderr what it stopped.

            A server with a live `corral run` monitor is stopped through it (SIGTERM to corral, which passes it
            on), so the guardrails record the stop as asked for, never as a failure. A process is signalled only
            when it is provably the recorded one (its PID and start time), never a process that got a recycled
            PID; an instance recorded by an older corral, without start times, is stopped through its scope.
            """,
        options: ManagerOptions.options() + [
            Option(["--grace"], value: "TIME", help: """
                How long the server has to exit after SIGTERM before everything left is killed. Default: 2s;
                0 kills at once.
                """) { options, value throws(CorralError) in
                    options.grace = value == "0" ? .zero : .microseconds(try Limits.timeSpan(value, field: "--grace"))
                },
            Option(["-a", "--all"], help: "Stop every running server of the manager (no NAME needed).") { options, _ in
                options.all = true
            },
        ],
        takesCommand: false,
        footer: """
            EXIT STATUS
                0 when something was stopped; 1 when nothing matched; 64 for invalid options or names;
                69 when the manager is unreachable; 71 when systemd refused to stop a scope.

            EXAMPLES
                corral stop files
                corral stop --grace 10s corral-files-1a2b3c4d.scope
                sudo corral stop --system --all
            """
    )

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Options()
        do throws(CorralError) {
            guard let targets = try spec.parse(arguments, into: &options) else {
                Console.output(spec.help)
                return 0
            }
            guard !targets.isEmpty || options.all else {
                throw CorralError(.invalidConfiguration, "no server given: corral stop [--all] NAME|UNIT...")
            }
            var names = Set<ServerName>()
            var units = Set<String>()
            for target in targets {
                if ServerName.from(unit: target) != nil { units.insert(target) } else { names.insert(try ServerName(target)) }
            }
            let instances = try await ServerInstance.list(manager: options.manager).filter { instance in
                guard let unit = instance.unit, instance.activeState != "inactive" else { return false }
                return options.all || names.contains(instance.name) || units.contains(unit)
            }
            guard !instances.isEmpty else {
                let what = options.all ? "no server is running" : "nothing running matches \(targets.map { "'\($0)'" }.joined(separator: ", "))"
                Console.error(what + " (see 'corral ps')")
                return 1
            }
            let bus = try SystemdBus.shared(options.manager)
            let store = StateStore.forManager(options.manager)
            var failure: CorralError?
            let grace = options.grace
            await withTaskGroup(of: CorralError?.self) { group in
                for instance in instances {
                    group.addTask {
                        do throws(CorralError) {
                            try await stop(instance, bus: bus, store: store, grace: grace)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                for await error in group where error != nil {
                    Console.error(error!.message)
                    failure = failure ?? error
                }
            }
            return failure?.exitCode ?? 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }

    /// The leaf slice that holds scope `unit`, from the scope's cgroup path (below /sys/fs/cgroup); nil for a scope
    /// without one (`--exec`).
    static func leafSlice(of unit: String, cgroup: String?) -> String? {
        let parts = (cgroup ?? "").split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[parts.count - 1] == unit else { return nil }
        let leaf = parts[parts.count - 2]
        return SliceName.leaf(of: unit, in: parts[parts.count - 3]) == leaf ? leaf : nil
    }

    /// SIGTERM, grace, then SIGKILL and StopUnit.
    static func stop(_ instance: ServerInstance, bus: SystemdBus, store: StateStore, grace: Duration) async throws(CorralError) {
        let unit = instance.unit!
        // The monitor only when its record proves it is the very process that watches this scope (PID and start
        // time): a PID alone may have been recycled for any process.
        let record = store.instance(unit: unit)
        let monitor = record?.monitor.flatMap { $0.isRunning ? $0 : nil }
        if monitor == nil {
            // No monitor (--exec) or a dead one: nobody else forgets the instance. Forgotten first, so that a start
            // meanwhile does not take this end for a fast failure of an --exec server.
            store.removeInstance(unit: unit)
        }
        if instance.isRunning, grace > .zero {
            // Through the monitor when there is one, so that the stop is recorded as asked for.
            if monitor?.signal(SIGTERM) != true && !instance.signalMainProcess(SIGTERM) {
                try? await bus.killUnit(unit, who: "all", signal: SIGTERM)
            }
            let deadline = ContinuousClock.now + grace
            while ContinuousClock.now < deadline, await exists(instance, bus: bus) {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        if await exists(instance, bus: bus) {
            // systemd's own stop would wait up to TimeoutStopSec for a server that ignores SIGTERM.
            try? await bus.killUnit(unit, who: "all", signal: SIGKILL)
            try await bus.stopUnit(unit)
        }
        if instance.activeState == "failed" { try? await bus.resetFailedUnit(unit) }
        // Only a monitor stops its leaf slice: a dead one's is stopped here, with its scope.
        if monitor == nil, let leaf = leafSlice(of: unit, cgroup: record?.cgroup) { try? await bus.stopUnit(leaf) }
        // A monitor finishes on its own once the scope is gone; give it a moment so the caller sees it exit.
        if let monitor {
            let deadline = ContinuousClock.now + .seconds(2)
            while ContinuousClock.now < deadline, monitor.isRunning {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let pid = instance.mainPID.map { ", PID \($0)" } ?? ""
        Console.error("stopped \(unit) (server '\(instance.name)'\(pid))")
    }

    /// Whether the scope still has processes: its cgroup directory exists (or, when it was not found, systemd
    /// still lists the unit as active).
    static func exists(_ instance: ServerInstance, bus: SystemdBus) async -> Bool {
        if let path = instance.cgroupPath {
            return access(CgroupFiles.root + path, F_OK) == 0
        }
        let units = (try? await bus.listUnits(matching: [instance.unit!])) ?? []
        return units.contains { ["active", "activating", "deactivating", "reloading"].contains($0.activeState) }
    }
}
