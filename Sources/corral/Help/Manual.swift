import Corral

/// corral(1): every command's help, as `corral help` prints it, with what only a man page has around it.
enum Manual {
    static var page: String {
        var page = ManPage(title: "CORRAL", section: 1, source: "corral \(CorralCommand.version)", manual: "User Commands")
        let commands = CorralCommand.commands.map(\.manual) + CorralCommand.builtins
        page.section("NAME")
        page.text("corral - " + CorralCommand.tagline)
        page.section("SYNOPSIS")
        page.text((["corral COMMAND [OPTIONS] [ARGUMENTS...]"] + commands.map(\.synopsis)).joined(separator: "\n\n"), paragraph: ".br")
        page.section("DESCRIPTION")
        page.text(description)
        page.section("COMMANDS")
        for command in commands { page.command(command, program: "corral") }
        page.section("OPTIONS")
        page.item(ManPage.Option(names: ["-h", "--help"], value: nil, help: "Print the list of commands; after a command, its manual."))
        page.item(ManPage.Option(names: ["--version"], value: nil, help: "Print corral's version."))
        page.section("SANDBOX PRESETS")
        page.text(sandboxPresets)
        page.section("EXIT STATUS")
        page.text(exitStatus)
        page.section("FILES")
        for (path, what) in files { page.item(ManPage.Option(names: [path], value: nil, help: what)) }
        page.section("EXAMPLES")
        page.text(examples, verbatim: true)
        page.section("SEE ALSO")
        page.text("systemd-run(1), systemctl(1), systemd.scope(5), systemd.slice(5), systemd.resource-control(5)")
        return page.roff
    }

    private static let description = """
        corral puts every MCP (Model Context Protocol) server that an AI agent's gateway starts into its own
        transient systemd scope, with cgroup v2 memory and task limits, no_new_privs and a seccomp filter, so
        that the server's whole process tree is contained, accounted for, and killed as one unit. A mistyped or
        leaking server then costs one failed, contained, clearly reported start, never the host; guardrails
        (backoff, a circuit breaker, an instance cap) stop a gateway that retries a failing server forever.

        It is a prefix launcher for a gateway's configuration (`corral run [limits] -- COMMAND`, see
        `corral wrap`), a tool for the shell, and, as the Swift library Corral, a building block for gateways.
        Root uses the system manager; everyone else their own `systemd --user`.
        """

    private static var sandboxPresets: String {
        let inHome = (Sandbox.credentialPaths + Sandbox.clientConfigurationPaths).map { "~/" + $0 }
        return """
            --sandbox default hides, where they exist: \((inHome + Sandbox.systemSecretPaths).joined(separator: ", ")).
            --sandbox strict hides the same, lets the server read everything else and write only its working
            directory and the temp directory, and gives it --network loopback unless --network none.
            `corral help sandbox` shows them with this user's paths.
            """
    }

    private static let exitStatus = """
        corral run exits with the server's own status, 128+N when it was killed by signal N. Otherwise:
        0    success
        1    a check that found a problem (check, doctor) or nothing to act on (stop)
        64   invalid options, arguments or limits
        66   wrap, unwrap: CONFIG does not exist, cannot be read or is not a regular file
        69   systemd, cgroup v2 or a controller is unavailable
        71   systemd refused a unit, or a system call or a file failed
        73   wrap, unwrap: CONFIG, its backup or a temporary file next to it cannot be written
        75   refused by a guardrail (backoff, circuit breaker, instance cap): nothing was started
        126  the server's command could not be executed
        127  the server's command was not found
        """

    private static let files = [
        ("/run/corral/", "Guardrail state and instance records of the system manager's servers."),
        ("$XDG_RUNTIME_DIR/corral/", "The same for a user's servers."),
        ("/etc/systemd/system/corral.slice", "The slice unit `corral install` writes for the system manager."),
        ("~/.config/systemd/user/corral.slice", "The slice unit `corral install --user` writes."),
    ]

    private static let examples = """
        corral run --memory-max 512M --tasks-max 64 -- npx -y @modelcontextprotocol/server-memory
        corral check -- uvx mcp-server-time
        corral wrap --in-place ~/.config/Claude/claude_desktop_config.json
        corral ps
        corral metrics --textfile /var/lib/prometheus/node-exporter/corral.prom
        sudo corral install
        """
}
