import Corral

/// `corral wrap CONFIG`: put the stdio servers of an MCP client's configuration under `corral run`.
enum WrapCommand {
    struct Options {
        var inPlace = false
        var corral = "corral"
        var run = MCPConfig.RunOptions()
    }

    static let spec = CommandSpec<Options>(
        name: "wrap",
        abstract: "put the stdio servers of an MCP client's configuration under corral run",
        synopsis: "corral wrap CONFIG [--in-place] [--corral PATH] [RUN OPTIONS...]",
        discussion: """
            Rewrites the stdio servers of CONFIG, the "mcpServers" object of Claude Desktop, Claude Code
            (.mcp.json) or Cursor, or OpenClaw's "mcp": {"servers": ...}, so each runs in its own scope under
            `corral run --name KEY`, KEY being the server's key, with the RUN OPTIONS given here:

                "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv"]}
            becomes
                "fs": {"command": "corral", "args": ["run", "--name", "fs", "--memory-max", "512M", "--",
                       "npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv"]}

            env, cwd and every other key stay as they are, in their order. Remote servers (with a url, or type
            sse, http or streamable-http) and servers already run by corral are left alone, so wrapping twice
            changes nothing. Each RUN OPTION's value is checked as corral run checks it before anything is
            written; a relative --seccomp profile path is made absolute.

            Without --in-place the rewritten configuration goes to stdout (indented by two spaces). Which servers
            were wrapped, and which skipped and why, goes to stderr. `corral unwrap` undoes it.
            """,
        options: [
            Option(["-i", "--in-place"], help: """
                Rewrite CONFIG itself: the original is first saved as CONFIG.corral-backup (unless a backup exists
                already, so repeated wraps keep the very first original), then CONFIG is replaced atomically (a
                temporary file in the same directory, synced and renamed over it; mode and owner kept). A
                symbolic link is followed. Nothing is written when no server needs wrapping.
                """) { options, _ in options.inPlace = true },
            Option(["--corral"], value: "PATH", help: """
                The command the client starts instead of each server. Default: corral, found on the client's
                PATH; give an absolute path when the client's PATH may not include it.
                """) { options, value throws(CorralError) in
                    guard !value.isEmpty else { throw .invalid("--corral", value, "expected a path to corral") }
                    options.corral = value
                },
        ] + runOptions,
        takesCommand: false,
        footer: """
            EXIT STATUS
                0    the configuration was written (or printed)
                64   invalid options or option values, invalid JSON (with its line and column), or no
                     "mcpServers" / "mcp.servers" in CONFIG
                66   CONFIG does not exist or cannot be read
                73   CONFIG, its backup or a temporary file next to it cannot be written

            EXAMPLES
                corral wrap ~/.config/Claude/claude_desktop_config.json
                corral wrap --in-place --memory-max 512M --tasks-max 64 .mcp.json
                corral wrap -i --corral /usr/local/bin/corral --seccomp default ~/.cursor/mcp.json
                corral wrap ~/.openclaw/openclaw.json > wrapped.json

            SEE ALSO
                corral help unwrap, corral help run
            """
    )

    /// The run options wrap passes on, with run's own help texts.
    static var runOptions: [Option<Options>] {
        MCPConfig.RunOptions.names.map { names in
            let run = RunCommand.spec.options.first { $0.names.contains(names[0]) }
            return Option(names, value: run?.value ?? "VALUE", choices: run?.choices ?? [],
                          help: run?.help ?? "Passed on to corral run.") { options, value throws(CorralError) in
                try options.run.append(names[0], value)
            }
        }
    }

    static func main(_ arguments: [String]) -> Int32 {
        var options = Options()
        var status: Int32 = 0
        guard let path = spec.singleArgument(arguments, into: &options, naming: "configuration file", exitStatus: &status) else {
            return status
        }
        if options.corral.contains("/") && !options.corral.hasPrefix("/") {
            Console.warning("--corral \(options.corral) is relative: the client resolves it from its own working directory")
        }
        do throws(CorralError) {
            let result = try MCPConfig.wrapFile(path, corral: options.corral, options: options.run, inPlace: options.inPlace)
            report(result, inPlace: options.inPlace, nothing: "no server to wrap")
            if result.wrote {
                Console.error("wrote \(path)" + (result.createdBackup
                    ? "; the original is in \(result.backup)"
                    : "; kept the earlier backup \(result.backup)"))
            }
            if let output = result.output { Console.output(output) }
            return 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }

    /// One line on stderr per server, then what became of the file.
    static func report(_ result: MCPConfig.FileResult, inPlace: Bool, nothing: String) {
        let sections = Set(result.changes.map(\.section))
        for change in result.changes {
            Console.error(change.description + (sections.count > 1 ? " (in \(change.section))" : ""))
        }
        if !result.changes.contains(where: \.isRewrite) {
            Console.error(nothing + (inPlace ? "; the file was left as it was" : ""))
        }
    }
}
