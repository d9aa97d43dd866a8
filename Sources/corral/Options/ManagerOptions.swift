import Corral

/// Options of a command that works with one systemd manager.
protocol ManagerCommandOptions: SendableMetatype {
    var manager: SystemdBus.Manager { get set }
}

/// `--system` and `--user`, shared by every command that is not given a server to start.
enum ManagerOptions {
    static func options<T: ManagerCommandOptions>() -> [Option<T>] {
        [
            Option(["--system"], excludes: ["--user"], help: "The system manager's servers (the default for root).") { options, _ in
                options.manager = .system
            },
            Option(["--user"], excludes: ["--system"], help: "The calling user's servers (the default for everyone else).") { options, _ in
                options.manager = .user
            },
        ]
    }
}
