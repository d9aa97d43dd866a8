import Corral

/// `corral ps`: the running servers, what they use, and their guardrails.
enum PsCommand {
    struct Options: ManagerCommandOptions {
        var manager = SystemdBus.Manager.automatic
        var json = false
        var all = false
    }

    static let spec = CommandSpec<Options>(
        name: "ps",
        abstract: "list running servers with their memory, tasks and guardrail state",
        synopsis: "corral ps [--system|--user] [--json] [--all]",
        discussion: """
            Lists the servers' scopes in corral.slice (and any other --slice), one line each, read from systemd
            in a single call and from the scopes' cgroup files:

                NAME      the server's name (--name, or derived from its command)
                UNIT      its scope unit
                PID       its main process
                STATE     running, or stale: the corral process that watched it is gone (killed), or systemd keeps
                          the scope as failed; `corral gc` cleans those up
                UPTIME    since the start
                MEM       memory now / peak / MemoryMax (- when unlimited)
                TASKS     processes and threads now / TasksMax
                OOM       processes the kernel OOM-killed in the scope
                RESTARTS  starts of this name after the first (since the guardrail state was created or reset)
                BREAKER   the circuit breaker, with the time left when a start is refused; "backoff" when the
                          server is held back after fast failures

            Servers that have no scope but are refused by a guardrail (open breaker, backoff) are listed too, with
            STATE inactive, so refused servers are visible. --all adds every other server that has guardrail state.
            """,
        options: ManagerOptions.options() + [
            Option(["--json"], help: """
                Print a JSON array instead of the table: one object per line of the table, sizes in bytes,
                times in seconds, null for what is unknown or unlimited.
                """) { options, _ in options.json = true },
            Option(["-a", "--all"], help: "Also list servers with guardrail state that neither run nor are refused.") { options, _ in
                options.all = true
            },
        ],
        takesCommand: false,
        footer: """
            EXIT STATUS
                0 on success, also when nothing runs; 64 for invalid options; 69 when the manager is unreachable.

            EXAMPLES
                corral ps
                corral ps --json | jq '.[] | select(.stale)'
                sudo corral ps --system --all

            SEE ALSO
                corral help stop, corral help gc, corral help reset
            """
    )

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Options()
        do throws(CorralError) {
            guard try spec.parseOptionsOnly(arguments, into: &options) else { return 0 }
            let now = ServerInstance.now
            let inventory = try await Inventory.take(manager: options.manager)
            let instances = inventory.instances
                .filter { $0.unit != nil || options.all || $0.refusedUntil != nil }
            if options.json {
                // One compact object per line: readable, greppable, and quick to write for hundreds of servers.
                let objects = instances.map { json($0, now: now).compactText }
                Console.output(objects.isEmpty ? "[]\n" : "[\n" + objects.joined(separator: ",\n") + "\n]\n")
            } else {
                Console.output(table(instances, now: now))
            }
            let stale = instances.filter(\.stale).count + inventory.orphanedSlices.count
            if stale > 0 {
                Console.error("\(stale) stale instance(s) or leaf slice(s): their monitor is gone or the scope failed; run 'corral gc\(options.manager == .automatic ? "" : " --" + options.manager.rawValue)' to clean up")
            }
            return 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }

    static func state(_ instance: ServerInstance) -> String {
        if instance.stale { return "stale" }
        if instance.unit == nil { return "inactive" }
        if instance.activeState == "active" { return instance.subState == "running" ? "running" : instance.subState }
        return instance.activeState
    }

    static func breaker(_ instance: ServerInstance, now: Double) -> String {
        let left = instance.refusedUntil.map { " " + ServerInstance.formatSpan($0 - now) } ?? ""
        switch instance.breaker {
        case .closed: return instance.refusedUntil == nil ? "closed" : "backoff" + left
        case .open: return "open" + left
        case .halfOpen: return "half-open"
        }
    }

    static func table(_ instances: [ServerInstance], now: Double) -> String {
        var rows = [["NAME", "UNIT", "PID", "STATE", "UPTIME", "MEM", "TASKS", "OOM", "RESTARTS", "BREAKER"]]
        for instance in instances {
            let usage = instance.usage
            let memory = usage.map {
                [ByteCount.format($0.memoryCurrent), $0.memoryPeak.map(ByteCount.format) ?? "-",
                 $0.memoryMax.map(ByteCount.format) ?? "-"].joined(separator: "/")
            } ?? "-"
            let tasks = usage.map { "\($0.tasksCurrent)/" + ($0.tasksMax.map { String($0) } ?? "-") } ?? "-"
            rows.append([
                instance.name.rawValue, instance.unit ?? "-", instance.mainPID.map { String($0) } ?? "-",
                state(instance), instance.uptime.map(ServerInstance.formatSpan) ?? "-", memory, tasks,
                usage?.oomKills.map { String($0) } ?? "-", String(instance.restarts), breaker(instance, now: now),
            ])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func json(_ instance: ServerInstance, now: Double) -> JSON {
        func number<T: BinaryInteger>(_ value: T?) -> JSON { value.map { .number(String($0)) } ?? .null }
        func seconds(_ value: Double?) -> JSON {
            guard let value else { return .null }
            return .number(String((value * 1000).rounded() / 1000))
        }
        let usage = instance.usage
        return .object([
            .init("name", .string(instance.name.rawValue)),
            .init("unit", instance.unit.map(JSON.string) ?? .null),
            .init("state", .string(state(instance))),
            .init("activeState", .string(instance.activeState)),
            .init("subState", .string(instance.subState)),
            .init("stale", .bool(instance.stale)),
            .init("mainPID", number(instance.mainPID)),
            .init("monitorPID", number(instance.monitorPID)),
            .init("uptimeSeconds", seconds(instance.uptime)),
            .init("cgroup", instance.cgroupPath.map(JSON.string) ?? .null),
            .init("memoryCurrentBytes", number(usage?.memoryCurrent)),
            .init("memoryPeakBytes", number(usage?.memoryPeak)),
            .init("memoryMaxBytes", number(usage?.memoryMax)),
            .init("tasksCurrent", number(usage?.tasksCurrent)),
            .init("tasksMax", number(usage?.tasksMax)),
            .init("cpuMicroseconds", number(usage?.cpuMicroseconds)),
            .init("oomKills", number(usage?.oomKills)),
            .init("tasksLimitHits", number(usage?.tasksLimitHits)),
            .init("restarts", JSON(instance.restarts)),
            .init("consecutiveFailures", JSON(instance.consecutiveFailures)),
            .init("breaker", .string(instance.breaker.rawValue)),
            .init("refusedForSeconds", seconds(instance.refusedUntil.map { $0 - now })),
            .init("lastExit", instance.guardrails.map { $0.lastExit.isEmpty ? JSON.null : .string($0.lastExit) } ?? .null),
        ])
    }
}
