import Corral

/// `corral install`: the binary, its man page, shell completions and corral.slice, in the places users look.
enum InstallCommand {
    static let spec = CommandSpec<Installation.Options>(
        name: "install",
        abstract: "install corral, its man page, shell completions and the corral.slice unit",
        synopsis: "corral install [--system|--user] [--prefix DIR] [--print-man]",
        discussion: """
            Copies the running corral binary and writes what belongs with it, each file whole (a temporary file
            in the same directory, synced and renamed into place), creating missing directories:

                PREFIX/bin/corral
                PREFIX/share/man/man1/corral.1                          the manual: every command's help
                PREFIX/share/bash-completion/completions/corral
                PREFIX/share/zsh/site-functions/_corral
                PREFIX/share/fish/vendor_completions.d/corral.fish
                PREFIX/share/corral/installed                           what was written, for uninstall
                /etc/systemd/system/corral.slice                        --system
                ~/.config/systemd/user/corral.slice                     --user

            then makes the manager reload its unit files (Reload over D-Bus, like `systemctl daemon-reload`).
            The slice unit holds the limits Corral gives the slice when it creates it (MemoryMax=50% of RAM,
            MemorySwapMax=0, TasksMax=4096), so they are visible and editable with systemctl; `corral slice`
            changes them. A corral.slice without the marker line corral install writes first is kept as it is.
            While servers run in a slice Corral created on the fly, that slice keeps running as it is; the
            unit file applies when it next starts.

            install is a command of the binary rather than a script: the man page and the completions are
            generated from the same tables as `corral help`, so what is installed always matches the binary,
            and no source tree is needed. Running it again upgrades in place; `corral uninstall` with the same
            --system/--user and --prefix removes exactly these files (directories stay: they are shared).

            Rootless: ~/.local/bin must be on PATH (a warning says when it is not); man finds
            ~/.local/share/man through it; zsh needs fpath+=(~/.local/share/zsh/site-functions) in ~/.zshrc.
            """,
        options: Installation.Options.shared + [
            Option(["--print-man"], help: """
                Print the man page (roff) on stdout and install nothing, e.g. for a package build:
                corral install --print-man > corral.1
                """) { options, _ in options.printManual = true },
        ],
        takesCommand: false,
        footer: """
            EXIT STATUS
                0 when everything was installed; 64 for invalid options; 69 when the manager is unreachable
                (nothing is written then); 71 when a file cannot be written (the message names it).

            EXAMPLES
                sudo corral install
                corral install --user
                sudo corral install --prefix /opt/corral
                man corral

            SEE ALSO
                corral help uninstall, corral help slice, systemd.slice(5)
            """
    )

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Installation.Options()
        do throws(CorralError) {
            guard try spec.parseOptionsOnly(arguments, into: &options) else { return 0 }
            if options.printManual {
                Console.output(Manual.page)
                return 0
            }
            let installation = try Installation(options)
            // Reach the manager before writing anything: without it the slice would be half installed.
            let bus = try SystemdBus.shared(installation.manager)
            var written: [String] = []
            for file in installation.files {
                try installation.write(file)
                written.append(file.path)
                Console.output("installed \(file.path)\n")
            }
            // A slice install wrote and someone edited since (systemctl edit --full keeps the marker) stays too.
            let recorded = installation.installed()?.first { $0.path == installation.slice }?.identity
            let sliceEdited = recorded != nil && recorded != Installation.identity(installation.slice)
            let keepSlice = installation.sliceIsOurs == false || sliceEdited
            if !keepSlice {
                try installation.write(installation.sliceFile)
                written.append(installation.slice)
            }
            try installation.recordInstalled(written)
            if keepSlice {
                Console.warning("kept \(installation.slice): " + (sliceEdited ? "it was changed since corral install wrote it" : "it was not written by corral install"))
            } else {
                try await bus.reload()
                Console.output("installed \(installation.slice)\n")
                let loaded = try? await bus.stringProperty("FragmentPath", interface: "org.freedesktop.systemd1.Unit",
                                                          unit: ServerSlice.defaultName)
                if loaded == "" {
                    Console.warning("the \(installation.manager.rawValue) manager does not read \(installation.slice) (is its XDG_CONFIG_HOME another than this shell's?)")
                } else if let loaded, loaded != installation.slice {
                    Console.warning("\(ServerSlice.defaultName) runs from \(loaded) while servers use it; \(installation.slice) applies when it next starts")
                }
            }
            if installation.manager == .user, !installation.binaryDirectoryIsOnPath {
                Console.warning("\(installation.prefix)/bin is not on PATH: add it, or run \(installation.prefix)/bin/corral")
            }
            return 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }
}
