extension ServerProcess {
    /// The second half of `exec(_:)` for a server that needs a user namespace: a program that calls `exec` must
    /// call this first thing in main, while it is still single-threaded, with its arguments (without argv[0]).
    /// Returns nil when they are not that hand-over; otherwise it contains the process and execs the server, and
    /// returns only with the error that stopped it.
    public static func resumeContainedExec(_ arguments: [String]) -> CorralError? {
        ProcessImage.resume(arguments)
    }
}
