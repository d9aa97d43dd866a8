import Corral

/// `corral reset NAME...`: forget a server's failures and close its circuit breaker.
enum ResetCommand {
    struct Options: ManagerCommandOptions {
        var manager = SystemdBus.Manager.automatic
    }

    static let spec = CommandSpec<Options>(
        name: "reset",
        abstract: "forget a server's failures and close its circuit breaker",
        synopsis: "corral reset [--system|--user] NAME...",
        discussion: """
            Clears the guardrail state of the named servers: the count of fast failures, the backoff delay and
            an open circuit breaker, so the next start goes ahead at once. Use it after fixing a server's
            configuration. Running instances are not touched.
            """,
        options: ManagerOptions.options() + [
        ],
        takesCommand: false,
        footer: """
            EXIT STATUS
                0 when every name had state to clear or none was needed; 64 for an invalid name; 71 on an I/O error.
            """
    )

    static func main(_ arguments: [String]) -> Int32 {
        var options = Options()
        do throws(CorralError) {
            guard let names = try spec.parse(arguments, into: &options) else {
                Console.output(spec.help)
                return 0
            }
            guard !names.isEmpty else { throw CorralError(.invalidConfiguration, "no server name given: corral reset NAME...") }
            let store = StateStore.forManager(options.manager)
            for raw in names {
                let name = try ServerName(raw)
                let cleared = try store.reset(name)
                Console.error(cleared ? "server '\(name)': failures forgotten, breaker closed" : "server '\(name)': nothing to reset")
            }
            return 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }
}
