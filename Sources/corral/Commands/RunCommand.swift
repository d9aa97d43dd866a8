import Corral

/// `corral run`: the prefix launcher.
enum RunCommand {
    struct Options: ServerCommandOptions {
        var server = ServerConfiguration(executable: "")
        var exec = false
        var verbose = false
        var thresholds = ThresholdWatch()
    }

    static let spec = CommandSpec<Options>(
        name: "run",
        abstract: "start an MCP server in its own systemd scope, with limits and a seccomp filter",
        synopsis: "corral run [OPTIONS] [--] COMMAND [ARGUMENT...]",
        discussion: """
            Starts COMMAND as an MCP server contained in a transient systemd scope unit of its own (created over
            D-Bus with StartTransientUnit, in corral.slice), with memory and tasks limits on the whole process tree,
            no_new_privs and a seccomp filter. Put it in front of a server's command in a gateway's mcpServers
            configuration:

                "command": "corral", "args": ["run", "--memory-max", "512M", "--", "npx", "-y", "some-server"]

            The server is held before it runs any code of its own until its scope exists; then it enters a cgroup
            namespace rooted at its scope and a private mount namespace (rootless: through a user namespace of its
            own) in which the cgroupfs, /sys and /proc/sys are read-only and systemd's buses are /dev/null, and as
            root it drops every capability: so neither it nor anything it starts can leave the scope, raise its
            limits or have the manager start units for it. Where the host forbids user namespaces, corral says
            so and runs it with the limits, no_new_privs and seccomp only (--containment strict refuses). stdin, stdout and stderr are the server's, untouched: corral never writes to stdout.
            What it may see of files and the network is narrowed only when asked: --read, --write and --hide
            (Landlock and its mount namespace), --network (a network namespace of its own), --connect and
            --bind, and the presets of --sandbox (corral help sandbox).
            corral stays as a small parent (monitor mode): SIGTERM, SIGINT and SIGHUP are passed on (a second one
            kills the whole tree at once); when the server's main process exits, everything left in its scope
            (grandchildren, setsid and double-forked daemons) is killed and the scope is stopped, and corral exits
            with the server's status. An OOM kill or a hit tasks limit is reported on stderr, with the server's name.
            The server's stderr passes through corral, which keeps its last lines.

            Guardrails bound a caller that retries a failing server forever: after fast failures (any exit
            sooner than --min-uptime, with status 0 too, unless a stop was asked for) further starts of the same
            --name are refused at once, without starting anything, for a growing delay; after
            --breaker-threshold of them the circuit breaker stays open for --breaker-open, then lets one probe
            through. The first start of a server not yet seen healthy is on probation until 3s after its exec
            (however long its spawn takes): concurrent starts of it wait for its outcome (at most 6s) instead of
            spawning too. --max-instances caps
            the instances running at once, counting the scopes of killed monitors until `corral gc` stops them.
            A refusal exits 75 with one message naming the server, its failures, its last stderr lines and when
            it may start again. State lives in /run/corral (root) or $XDG_RUNTIME_DIR/corral; its deadlines are
            kept on the boot clock, so setting the wall clock neither stretches nor shortens them. corral refuses
            a state directory that another user owns and repairs one that others may write.

            Root uses the system manager, everyone else their own user manager (found without XDG_RUNTIME_DIR or
            DBUS_SESSION_BUS_ADDRESS, which MCP clients do not pass on).
            """,
        options: ServerOptions.options() + GuardrailOptions.options() + [
            Option(["--exec"], help: """
                Do not stay resident: corral moves itself into the scope, contains itself as a server is contained
                (namespaces, mounts, capabilities, seccomp) and execs the server, like systemd-run --scope. Nothing
                then kills leftovers when the server exits, and OOM kills are not reported; the scope ends when its
                last process does. The guardrails see less: no corral stays to see the exit, so the next start of
                the server learns of it. A server found gone within --min-uptime of its start counts as a fast
                failure whatever its status (even a stop by the gateway itself; `corral stop` is not counted), one
                found still running past it as healthy, one found gone later as neither; its stderr is not kept for
                refusal messages. Backoff, breaker, probation and --max-instances apply as to any start. `corral
                wrap` never writes --exec.
                """) { options, _ in options.exec = true },
            Option(["--warn-memory"], value: "SIZE|PERCENT", help: """
                Warn once (on stderr and in the journal) when the server's memory crosses this: a size, or a
                percentage of its MemoryMax. Default: 80%. off disables it.
                """) { options, value throws(CorralError) in
                    options.thresholds.memory = try .init(value, field: "--warn-memory", memory: true)
                },
            Option(["--warn-tasks"], value: "N|PERCENT", help: """
                Warn once when the server's tasks cross this: a number, or a percentage of its TasksMax.
                Default: 80%. off disables it.
                """) { options, value throws(CorralError) in
                    options.thresholds.tasks = try .init(value, field: "--warn-tasks", memory: false)
                },
            Option(["-v", "--verbose"], help: "Say on stderr which scope the server was started in.") { options, _ in
                options.verbose = true
            },
        ],
        takesCommand: true,
        footer: """
            EXIT STATUS
                The server's own exit status; 128+N when it was killed by signal N (137 after an OOM kill).
                127  the command was not found          126  the command could not be executed
                64   invalid options or limits          69   systemd, cgroup v2 or a controller is unavailable
                71   systemd refused the scope, or a system call failed
                75   refused by a guardrail (backoff, circuit breaker, instance cap): nothing was started

            EXAMPLES
                corral run -- uvx mcp-server-time
                corral run --memory-max 512M --tasks-max 64 --name files -- npx -y @modelcontextprotocol/server-filesystem /srv
                corral run --seccomp ./profile.json -p MemoryHigh=400M -- python3 -m my_server

            SEE ALSO
                systemd-run(1), systemd.resource-control(5), corral help check
            """
    )

    static func main(_ arguments: [String], signals: SignalForwarding?) async -> Int32 {
        var options = Options()
        do throws(CorralError) {
            guard try spec.parseServerCommand(arguments, into: &options) else { return 0 }
            let name = try options.server.serverName()
            // Said on stderr and kept in the journal: what the library warns about (a weaker containment than
            // asked for, a reset state file), and every weakening the options ask for.
            options.server.warningHandler = { message in
                Console.warning(message)
                Journal.send(.warning, server: name.rawValue, priority: .warning, message: message)
            }
            // stderr passes through corral, which keeps its last lines for the guardrail reports.
            options.server.standardError = .relay(to: 2)
            for sentence in options.server.weakenings(name: name) { options.server.warningHandler(sentence) }
            if options.exec { try await ServerProcess.exec(options.server) }
            let server: ServerProcess
            do {
                server = try await ServerProcess.spawn(options.server)
            } catch where error.code == .refused {
                Events.report(.refused(name, error))
                return error.exitCode
            }
            Console.handOverStandardInputAndOutput()
            signals?.forward(to: server)
            Events.report(.started(server), verbose: options.verbose)
            let watch = options.thresholds.watch(server)
            let termination = await server.wait()
            watch.cancel()
            Events.report(.ended(termination, of: server))
            return termination.exitCode
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }
}
