import Corral

/// `corral check`: start a server as `run` would, speak the MCP handshake to it, report, and stop it.
enum CheckCommand {
    struct Options: ServerCommandOptions {
        var server = ServerConfiguration(executable: "")
        var timeout: UInt64 = 30_000_000
        var json = false
    }

    static let spec = CommandSpec<Options>(
        name: "check",
        abstract: "preflight: start an MCP server in its scope, perform the MCP handshake, report, stop it",
        synopsis: "corral check [RUN OPTIONS] [--timeout TIME] [--json] [--] COMMAND [ARGUMENT...]",
        discussion: """
            What a gateway (or a person) runs before trusting a server configuration. The server is started
            exactly as `corral run` would start it (same options, limits and seccomp profile), then sent MCP's
            initialize request, the initialized notification and tools/list over its stdio. The report says
            whether it answered, its name, version and tool count, the time to its first answer, and its peak
            memory and tasks; on failure, how it ended and the last lines of its stderr. The server is always
            stopped afterwards and nothing is left behind.
            """,
        options: ServerOptions.options() + [
            Option(["--timeout"], value: "TIME", help: "How long the handshake may take in all. Default: 30s.") { options, value throws(CorralError) in
                options.timeout = try Limits.timeSpan(value, field: "--timeout")
            },
            Option(["--json"], help: "Print the report as one JSON object on stdout.") { options, _ in options.json = true },
        ],
        takesCommand: true,
        footer: """
            EXIT STATUS
                0    the server answered initialize and tools/list
                1    it did not (it exited, timed out or answered with an error)
                127, 126, 64, 69, 71  as for corral run: the server could not be started at all

            EXAMPLES
                corral check -- uvx mcp-server-time
                corral check --json --timeout 60s --memory-max 512M -- npx -y @modelcontextprotocol/server-memory
            """
    )

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Options()
        let command: [String]
        do throws(CorralError) {
            guard try spec.parseServerCommand(arguments, into: &options) else { return 0 }
            command = [options.server.executable] + options.server.arguments
            options.server.guardrails = nil  // a deliberate preflight neither counts as a failure nor is refused
            options.server.standardInput = .pipe
            options.server.standardOutput = .pipe
            options.server.standardError = .pipe
            // What weakens the containment is said here as in `run` (stderr; stdout holds the report).
            options.server.warningHandler = { Console.warning($0) }
            for sentence in options.server.weakenings(name: try options.server.serverName()) { Console.warning(sentence) }
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
        let report = await Preflight.run(options.server, timeout: .microseconds(options.timeout))
        if options.json {
            Console.output(report.json(command: command).compactText + "\n")
        } else {
            Console.output(report.text)
        }
        if let error = report.startError, !options.json { Console.error(error.message) }
        return report.startError?.exitCode ?? (report.ok ? 0 : 1)
    }
}
