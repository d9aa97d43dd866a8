import Corral

/// `corral metrics`: the servers `corral ps` lists, as Prometheus metrics.
enum MetricsCommand {
    struct Options: ManagerCommandOptions {
        var manager = SystemdBus.Manager.automatic
        var textfile: String?
    }

    static let spec = CommandSpec<Options>(
        name: "metrics",
        abstract: "print Prometheus metrics of the servers: memory, tasks, OOM kills, restarts, breakers",
        synopsis: "corral metrics [--system|--user] [--textfile PATH]",
        discussion: """
            Prints, in Prometheus' text exposition format (version 0.0.4), what `corral ps --all` shows: every
            scope of a Corral server, running or stale, with its usage and limits read from its cgroup files
            (labels server and unit), the guardrail state of every server that has one, whether it runs or is
            refused (label server: one state per name, shared by its instances), totals, and corral.slice, whose
            limits bound all servers together (label slice). An unlimited limit is +Inf. Samples of a scope
            whose cgroup is gone are left out. Scrape it with node_exporter's textfile collector (--textfile,
            from a timer), or from any exporter that runs a command.

            The metrics:

            \(families)
            """,
        options: ManagerOptions.options() + [
            Option(["--textfile"], value: "PATH", help: """
                Write the metrics to PATH instead of stdout, for node_exporter's textfile collector: a
                temporary file in the same directory is written, synced, made mode 0644 and renamed over PATH,
                so the collector never reads half a file. PATH must end in .prom, the suffix the collector reads.
                """) { options, value in options.textfile = value },
        ],
        takesCommand: false,
        footer: """
            EXIT STATUS
                0 on success, also when nothing runs; 64 for invalid options or a PATH without .prom;
                69 when the manager is unreachable; 71 when PATH cannot be written.

            EXAMPLES
                corral metrics
                corral metrics | grep '^corral_server_breaker_open'
                sudo corral metrics --system --textfile /var/lib/prometheus/node-exporter/corral.prom

            SEE ALSO
                corral help ps, node_exporter --collector.textfile.directory
            """
    )

    /// Each family as the help lists it: name, labels and type, then what it means.
    private static var families: String {
        ServerMetrics.families.map { family in
            let labels = family.labels.isEmpty ? "" : "{" + family.labels.joined(separator: ",") + "}"
            return "    \(family.name)\(labels)  \(family.type)\n        \(family.help)"
        }.joined(separator: "\n")
    }

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Options()
        do throws(CorralError) {
            guard try spec.parseOptionsOnly(arguments, into: &options) else { return 0 }
            if let path = options.textfile, !path.hasSuffix(".prom") {
                throw CorralError(.invalidConfiguration,
                                  "the textfile '\(path)' must end in .prom: node_exporter's textfile collector reads only *.prom files")
            }
            let text = ServerMetrics.exposition(try await Inventory.take(manager: options.manager))
            if let path = options.textfile {
                try AtomicFile.write(text, to: path, mode: 0o644)
            } else {
                Console.output(text)
            }
            return 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }
}
