import Corral
internal import Glibc

/// `corral gc`: cleans up what killed monitors and failed scopes left behind.
enum GcCommand {
    struct Options: ManagerCommandOptions {
        var manager = SystemdBus.Manager.automatic
        var dryRun = false
    }

    static let spec = CommandSpec<Options>(
        name: "gc",
        abstract: "clean up stale scopes and instance records",
        synopsis: "corral gc [--system|--user] [--dry-run]",
        discussion: """
            Cleans up after servers whose corral was killed (SIGKILL, a crash) and could not clean up itself:

                a scope whose monitor is gone    its processes are killed and the scope is stopped
                a scope systemd keeps as failed  it is stopped and forgotten (ResetFailedUnit)
                a record whose scope is gone     the instance record is removed (--exec servers leave these)
                a leaf slice whose monitor died  it is stopped with what is left in it (each server's scope sits
                                                 in a slice of its own, corral-ID.slice, which its monitor stops
                                                 at the end)

            Running servers whose corral is alive, and --exec servers that still run, are not touched. Guardrail
            state (failures, breaker) is kept: `corral reset NAME` forgets it. Prints one line per cleaned unit
            on stdout.
            """,
        options: ManagerOptions.options() + [
            Option(["-n", "--dry-run"], help: "Only print what would be cleaned up.") { options, _ in options.dryRun = true },
        ],
        takesCommand: false,
        footer: """
            EXIT STATUS
                0 when everything stale was cleaned up, also when there was nothing to do; 64 for invalid options;
                69 when the manager is unreachable; 71 when systemd refused to stop a scope.

            EXAMPLES
                corral gc --dry-run
                sudo corral gc --system
            """
    )

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Options()
        do throws(CorralError) {
            guard try spec.parseOptionsOnly(arguments, into: &options) else { return 0 }
            let inventory = try await Inventory.take(manager: options.manager)
            let stale = inventory.instances.filter { $0.stale && $0.unit != nil }
            let verb = options.dryRun ? "would clean" : "cleaned"
            var failure: CorralError?
            if !stale.isEmpty {
                let bus = try SystemdBus.shared(options.manager)
                let store = inventory.store
                for instance in stale {
                    let unit = instance.unit!
                    let why = instance.activeState == "failed" ? "scope failed" : "monitor PID \(instance.monitorPID ?? 0) gone"
                    if !options.dryRun {
                        do throws(CorralError) {
                            if instance.isRunning { try? await bus.killUnit(unit, who: "all", signal: SIGKILL) }
                            try await bus.stopUnit(unit)
                            try? await bus.resetFailedUnit(unit)
                            store.removeInstance(unit: unit)
                        } catch {
                            Console.error(error.message)
                            failure = failure ?? error
                            continue
                        }
                    }
                    let pid = instance.mainPID.map { ", PID \($0)" } ?? ""
                    Console.output("\(verb) \(unit) (server '\(instance.name)'\(pid): \(why))\n")
                }
            }
            // After the stale scopes (killed first, above): stopping a leaf slice stops what is left in it.
            for slice in inventory.orphanedSlices {
                if !options.dryRun {
                    do throws(CorralError) {
                        try await SystemdBus.shared(options.manager).stopUnit(slice)
                    } catch {
                        Console.error(error.message)
                        failure = failure ?? error
                        continue
                    }
                }
                Console.output("\(verb) \(slice) (leaf slice whose monitor is gone)\n")
            }
            for record in inventory.orphanedRecords {
                if !options.dryRun { inventory.store.removeInstance(unit: record.unit) }
                Console.output("\(verb) \(record.unit) (server '\(record.name)': record of a scope that is gone)\n")
            }
            if stale.isEmpty && inventory.orphanedRecords.isEmpty && inventory.orphanedSlices.isEmpty {
                Console.error("nothing to clean up")
            }
            return failure?.exitCode ?? 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }
}
