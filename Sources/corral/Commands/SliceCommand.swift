import Corral

/// `corral slice`: show or set the limits that bound all servers together.
enum SliceCommand {
    struct Options: ManagerCommandOptions {
        var manager = SystemdBus.Manager.automatic
        var slice = "corral.slice"
        var limits = Limits.unlimited
        var changed = false
    }

    static let spec = CommandSpec<Options>(
        name: "slice",
        abstract: "show or set the limits of the slice that holds all servers",
        synopsis: "corral slice [--system|--user] [--slice SLICE] [--memory-max SIZE] [--memory-high SIZE] [--tasks-max N] [--cpu-quota PERCENT]",
        discussion: """
            Every server's scope lives in one slice (corral.slice unless --slice says otherwise), whose own limits
            bound the sum of all MCP servers even when each server's limits are generous. When Corral creates the
            slice it gives it MemoryMax=50% of RAM, MemorySwapMax=0 and TasksMax=4096. Without options this prints
            the slice's limits and what it uses now; with options it sets them persistently, like
            `systemctl set-property` (a drop-in the manager keeps across reboots).
            """,
        options: ManagerOptions.options() + [
            Option(["--slice"], value: "SLICE", help: "The slice to show or change. Default: corral.slice.") { options, value throws(CorralError) in
                try SliceName.validate(value, field: "--slice")
                options.slice = value
            },
            Option(["--memory-max"], value: "SIZE", help: "MemoryMax of all servers together.") { options, value throws(CorralError) in
                options.limits.memoryMax = try Limits.Memory(value, field: "--memory-max")
                options.changed = true
            },
            Option(["--memory-high"], value: "SIZE", help: "MemoryHigh of all servers together.") { options, value throws(CorralError) in
                options.limits.memoryHigh = try Limits.Memory(value, field: "--memory-high")
                options.changed = true
            },
            Option(["--tasks-max"], value: "N", help: "TasksMax of all servers together.") { options, value throws(CorralError) in
                options.limits.tasksMax = try Limits.Tasks(value, field: "--tasks-max")
                options.changed = true
            },
            Option(["--cpu-quota"], value: "PERCENT", help: "CPUQuota of all servers together.") { options, value throws(CorralError) in
                options.limits.cpuQuota = try Limits.cpuQuota(value, field: "--cpu-quota")
                options.changed = true
            },
        ],
        takesCommand: false,
        footer: """
            EXAMPLES
                corral slice
                corral slice --memory-max 4G --tasks-max 2048
            """
    )

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Options()
        do throws(CorralError) {
            guard try spec.parseOptionsOnly(arguments, into: &options) else { return 0 }
            let bus = try SystemdBus.shared(options.manager)
            if options.changed {
                try await ServerSlice.setLimits(options.limits, of: options.slice, bus: bus)
            }
            let path = CgroupFiles.root + ServerSlice.cgroupPath(options.slice, manager: options.manager)
            func value(_ file: String) -> String {
                let text = FileText.trimmed(path + "/" + file) ?? "-"
                if let number = UInt64(text), file.hasPrefix("memory") { return ByteCount.format(number) }
                return text
            }
            Console.output("""
                \(options.slice) (\(bus.endpoint))
                  memory: \(value("memory.current")) used, high \(value("memory.high")), max \(value("memory.max")), swap max \(value("memory.swap.max"))
                  tasks:  \(value("pids.current")) running, max \(value("pids.max"))
                  cpu:    max \(value("cpu.max"))

                """)
            return 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }
}
