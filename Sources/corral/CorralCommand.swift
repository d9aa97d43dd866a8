import Corral

/// The entry point: picks the subcommand.
enum CorralCommand {
    static let version = "0.1.0"

    /// What corral is, in a line: the overview's and the man page's NAME.
    static let tagline = "contain MCP servers in systemd scopes with limits, seccomp and guardrails"

    /// The commands that have no manual of their own (the man page's entries for them).
    static let builtins = [
        ManPage.Command(name: "completions", abstract: "print a shell completion script (bash, zsh or fish)",
                        synopsis: "corral completions bash|zsh|fish", discussion: "", options: [], footer: ""),
        ManPage.Command(name: "help", abstract: "show the manual of a command",
                        synopsis: "corral help [COMMAND]", discussion: "", options: [], footer: ""),
        ManPage.Command(name: "version", abstract: "print corral's version",
                        synopsis: "corral version", discussion: "", options: [], footer: ""),
    ]

    static let overview = """
        NAME
            corral - \(tagline)

        SYNOPSIS
            corral COMMAND [OPTIONS] [ARGUMENTS...]

        COMMANDS
            run          start an MCP server in its own systemd scope, with limits and a seccomp filter
            check        preflight: start a server in its scope, perform the MCP handshake, report, stop it
            ps           list running servers with their memory, tasks and guardrail state
            metrics      print Prometheus metrics of the servers, or write them for node_exporter
            stop         stop running servers by name or scope unit
            gc           clean up stale scopes and instance records
            reset        forget a server's failures and close its circuit breaker
            doctor       audit the host's own guardrails before a bad night
            slice        show or set the limits of the slice that holds all servers
            wrap         put the stdio servers of an MCP client's configuration under corral run
            unwrap       undo wrap: restore the servers' own commands
            install      install corral, its man page, shell completions and the corral.slice unit
            uninstall    remove what corral install put in place
            completions  print a shell completion script (bash, zsh or fish)
            help         show the manual of a command
            version      print corral's version

        Run 'corral help COMMAND' for a command's options, exit status and examples, and
        'corral help sandbox' for what the --sandbox presets allow.

        """

    static func main(_ arguments: [String], signals: SignalForwarding?) async -> Int32 {
        guard let command = arguments.first else {
            Console.error("no command given\n\n" + overview)
            return 64
        }
        let rest = Array(arguments.dropFirst())
        // The commands without options of their own take at most this many arguments.
        let arity = ["help": 1, "-h": 1, "--help": 1, "version": 0, "--version": 0, "completions": 1][command]
        if let arity, rest.count > arity {
            Console.error("unexpected argument '\(rest[arity])' after '\(([command] + rest.prefix(arity)).joined(separator: " "))'")
            return 64
        }
        switch command {
        case "run": return await RunCommand.main(rest, signals: signals)
        case "check": return await CheckCommand.main(rest)
        case "reset": return ResetCommand.main(rest)
        case "doctor": return await DoctorCommand.main(rest)
        case "ps": return await PsCommand.main(rest)
        case "metrics": return await MetricsCommand.main(rest)
        case "stop": return await StopCommand.main(rest)
        case "gc": return await GcCommand.main(rest)
        case "slice": return await SliceCommand.main(rest)
        case "wrap": return WrapCommand.main(rest)
        case "unwrap": return UnwrapCommand.main(rest)
        case "install": return await InstallCommand.main(rest)
        case "uninstall": return await UninstallCommand.main(rest)
        case "completions": return Completions.main(rest)
        case "help", "-h", "--help": return help(rest.first)
        case "version", "--version": Console.output("corral \(version)\n"); return 0
        default:
            Console.error("unknown command '\(command)' (see 'corral help')")
            return 64
        }
    }

    /// Every command's interface, for help, completions and the man page, in the order the overview lists them.
    static var commands: [CommandSummary] {
        [RunCommand.spec.summary, CheckCommand.spec.summary, PsCommand.spec.summary, MetricsCommand.spec.summary,
         StopCommand.spec.summary, GcCommand.spec.summary, ResetCommand.spec.summary, DoctorCommand.spec.summary,
         SliceCommand.spec.summary, WrapCommand.spec.summary, UnwrapCommand.spec.summary,
         InstallCommand.spec.summary, UninstallCommand.spec.summary]
    }

    static func help(_ name: String?) -> Int32 {
        guard let name else {
            Console.output(overview)
            return 0
        }
        if name == "sandbox" {
            Console.output(SandboxHelp.text)
            return 0
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            Console.error("no manual for '\(name)' (commands: \(commands.map(\.name).joined(separator: ", ")); topics: sandbox)")
            return 64
        }
        Console.output(command.help)
        return 0
    }
}
