import Corral
internal import Glibc

/// `corral help sandbox`: what each `--sandbox` preset allows, with this user's paths.
enum SandboxHelp {
    static var text: String {
        let home = getenv("HOME").map { String(cString: $0) }
        func list(_ paths: [String]) -> String {
            paths.map { "        " + $0 + (access($0, F_OK) == 0 ? "" : "   (not here: skipped)") }.joined(separator: "\n")
        }
        return """
            NAME
                corral sandbox - the presets of --sandbox, and what they allow

            DESCRIPTION
                --sandbox PRESET works a preset into the server's --read, --write, --hide and --network when it
                starts; the options given with it add to it. Paths that do not exist are skipped (a --hide given
                by hand must exist). Hidden directories look empty and read-only, hidden files cannot be opened.

            PRESETS
                default
                    Hides these, and leaves the server its user's other files and the network:
            \(list(Sandbox.hiddenPaths(of: .default, home: home)))

                strict
                    Hides what default hides; the server may read everything else (--read /) and write only its
                    working directory (-C DIR, else corral's) and the temp directory ($TMPDIR, else /tmp);
                    --network loopback unless --network none was given. A server that downloads packages at
                    start (npx, uvx) needs their cache writable too: --write ~/.npm, --write ~/.cache/uv.

            KERNEL
                Landlock ABI \(HostIsolation.current.landlockABI) here (corral doctor). strict needs Landlock; both
                need the server's mount namespace. What the kernel cannot enforce is refused (exit 69) unless
                --best-effort (see corral help run).

            EXAMPLES
                corral run --sandbox default -- npx -y @modelcontextprotocol/server-memory
                corral run --sandbox strict -C ~/notes -- uvx some-notes-server
                corral run --sandbox default --hide ~/work/.env --network none -- python3 -m my_server

            """
    }
}
