import Corral

/// `corral uninstall`: removes what `corral install` put in place.
enum UninstallCommand {
    static let spec = CommandSpec<Installation.Options>(
        name: "uninstall",
        abstract: "remove what corral install put in place",
        synopsis: "corral uninstall [--system|--user] [--prefix DIR]",
        discussion: """
            Removes the files `corral install` wrote (see `corral help install`) for the same --system/--user
            and --prefix, as recorded in PREFIX/share/corral/installed, then makes the manager reload its unit
            files. A file replaced or changed since (a distribution's binary, a slice edited by hand) is kept
            with a warning, and so is a slice unit that install found written by hand. Directories stay,
            and so do the limits `corral slice` set (drop-ins of the manager's own). Running servers are not
            touched: their scopes and the slice they run in go on until they stop.
            """,
        options: Installation.Options.shared,
        takesCommand: false,
        footer: """
            EXIT STATUS
                0 when nothing of corral's is left, also when nothing was installed; 64 for invalid options;
                69 when the manager is unreachable; 71 when a file cannot be removed.

            EXAMPLES
                sudo corral uninstall
                corral uninstall --user
            """
    )

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Installation.Options()
        do throws(CorralError) {
            guard try spec.parseOptionsOnly(arguments, into: &options) else { return 0 }
            let installation = try Installation(options)
            let bus = try SystemdBus.shared(installation.manager)
            var removed = 0
            for (identity, path) in installation.installed() ?? [] {
                guard let now = Installation.identity(path) else { continue }
                guard now == identity else {
                    Console.warning("kept \(path): it was replaced or changed since corral install wrote it")
                    continue
                }
                guard try AtomicFile.remove(path) else { continue }
                if path == installation.slice { try await bus.reload() }
                Console.output("removed \(path)\n")
                removed += 1
            }
            _ = try AtomicFile.remove(installation.manifest)
            if installation.sliceIsOurs == false {
                Console.warning("kept \(installation.slice): it was not written by corral install")
            }
            if removed == 0 {
                Console.output("nothing of corral's was installed in \(installation.prefix.isEmpty ? "/" : installation.prefix)\n")
            }
            return 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }
}
