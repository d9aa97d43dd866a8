import Corral

/// The options that narrow what a server sees of the filesystem and the network, shared by `run` and `check`.
enum SandboxOptions {
    static func options<T: ServerCommandOptions>() -> [Option<T>] {
        [
            Option(["--read"], value: "PATH", help: """
                Let the server read (and execute) PATH and what lies beneath it. Once --read or --write is given, a
                Landlock ruleset lets the server read nothing else but what a process needs to run: /usr, /bin,
                /sbin, /lib*, /etc (and where /etc/resolv.conf leads), /proc and /sys; /dev/null, /dev/zero,
                /dev/full, /dev/random and /dev/urandom; its command's file, the prefix it is installed in (the
                parent of its bin directory: a virtual environment, /opt/NAME) and its script's interpreter (#!,
                found through env on its PATH), and the directories their libraries load from (RUNPATH with $ORIGIN,
                LD_LIBRARY_PATH, /etc/ld.so.conf); and, writable, the temp directory ($TMPDIR, else /tmp). Its home
                directory, the working directory, a script given as an argument and its package are not in that
                list: give them with --read. PATH must exist; symbolic links and .. in it are followed as the kernel
                follows them, a relative PATH is taken from corral's working directory. Rules add up: a path beneath
                a --write path stays writable, so keep a secret out with --hide. Anything else fails with EACCES.
                Needs Landlock (Linux 5.13). Before Linux 6.2 (Landlock ABI 3) Landlock cannot refuse truncation, so
                the seccomp filter does: truncate(2) fails with EACCES even under --write (ftruncate works), and
                openat2 with ENOSYS; with --seccomp none corral refuses to start unless --best-effort. Before 5.19
                (ABI 2) renaming or linking a file into another directory is always refused. Not covered: connecting
                to a named Unix socket, and before Linux 6.10 (ABI 5) ioctls on devices the server may open. May be
                repeated.
                """) { options, value in options.server.sandbox.readable.append(value) },
            Option(["--write"], value: "PATH", help: """
                Let the server read and write PATH and what lies beneath it: create, remove, rename, link and
                truncate files and directories there. With --read, the only places besides the temp directory and
                the devices above that a server may change. To keep it from the temp directory too, --hide it (the
                server then finds it empty and read-only). May be repeated.
                """) { options, value in options.server.sandbox.writable.append(value) },
            Option(["--hide"], value: "PATH", help: """
                The server does not see PATH: in its mount namespace a directory is covered by an empty read-only
                one (what was inside is not found: ENOENT), and a file by a /dev/null that cannot be opened
                (EACCES). For ~/.ssh, ~/.aws, ~/.config/gcloud, a gateway's own configuration with the other
                servers' tokens. The server cannot unmount it, and a Landlock domain (made for this even without
                --read) keeps it from the /proc/PID/root of its user's other processes. It hides a path, not a file:
                another path to the same file (a hard link, another mount of the same filesystem) is not hidden, and
                a file that is replaced on the host while the server runs (an atomic save: a new file renamed over
                it) is no longer covered: hide the folder that holds it where the server needs nothing else there.
                PATH must exist. Needs the server's mount namespace (rootless: user namespaces) and Landlock;
                without them corral refuses to start unless --best-effort. May be repeated.
                """) { options, value in options.server.sandbox.hidden.append(value) },
            Option(["--network"], value: "MODE", choices: Sandbox.Network.allCases.map(\.rawValue), excludes: ["--network"], help: """
                host: the host's network, as any process has it. loopback: a network namespace of its own (rootless:
                through its user namespace) with only a loopback device, up: the server and what it starts may talk
                to each other on 127.0.0.1 and ::1, but reach no other address and no service of the host, not even
                the host's loopback. none: the same namespace with its loopback left down: no address at all
                (ENETUNREACH). Either also cuts the server off abstract Unix sockets outside (they belong to a
                network namespace); named Unix sockets on the filesystem stay reachable (--hide them, or use
                --read). Default: host.
                """) { options, value throws(CorralError) in
                    options.server.sandbox.network = try Sandbox.network(value)
                },
            Option(["--connect"], value: "PORT", help: """
                Let the server open TCP connections to PORT only (any address); connections to other ports fail with
                EACCES. Not covered: UDP (so DNS lookups still work, and any UDP traffic), Unix sockets, and what a
                process outside the server does for it. Needs Landlock TCP rules (Linux 6.7, ABI 4): corral refuses
                to start without them unless --best-effort. May be repeated.
                """) { options, value throws(CorralError) in
                    options.server.sandbox.connectPorts.append(try Sandbox.port(value, field: "--connect"))
                },
            Option(["--bind"], value: "PORT", help: """
                Let the server bind TCP sockets to PORT only (0: a port the kernel picks); other binds fail with
                EACCES. Not covered: UDP and Unix sockets. Needs Landlock ABI 4, as --connect. May be repeated.
                """) { options, value throws(CorralError) in
                    options.server.sandbox.bindPorts.append(try Sandbox.port(value, field: "--bind"))
                },
            Option(["--sandbox"], value: "PRESET", choices: Sandbox.Preset.allCases.map(\.rawValue), excludes: ["--sandbox"], help: """
                A preset on top of the options above. default: hide the usual credential folders and files (~/.ssh,
                ~/.gnupg, ~/.aws, ~/.config/gcloud, ~/.kube, ~/.netrc, registry and forge tokens, ...), the MCP
                clients' configurations that hold the other servers' tokens (~/.config/Claude, ~/.claude.json,
                ~/.codex, ...) and /etc/shadow; those that do not exist are skipped. strict: that, and read-only
                everything but the working directory (-C, else corral's) and the temp directory, with --network
                loopback unless --network none. `corral help sandbox` lists every path.
                """) { options, value throws(CorralError) in
                    guard let preset = Sandbox.Preset(rawValue: value) else {
                        throw .invalid("--sandbox", value, "expected \(Sandbox.Preset.allCases.map(\.rawValue).joined(separator: " or "))")
                    }
                    options.server.sandbox.preset = preset
                },
            Option(["--best-effort"], help: """
                Where the kernel or the host cannot enforce part of the sandbox asked for (no Landlock, a Landlock
                without truncation or TCP rules, no user namespaces), start the server without that part instead of
                refusing (exit 69). Cost: the server gets more than was asked for; each part dropped is said on
                stderr and in the journal at start.
                """) { options, _ in options.server.sandbox.bestEffort = true },
        ]
    }
}
