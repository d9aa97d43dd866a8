/// The one error type Corral throws: what failed, at which stage, and what the OS or systemd said about it.
///
/// Its `description` is a full sentence a user can act on; `exitCode` is what the `corral` command exits with.
public struct CorralError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// A configuration value, limit or option is malformed or inconsistent. Nothing was started.
        case invalidConfiguration
        /// The command does not exist (on PATH or at the given path).
        case commandNotFound
        /// The command exists but cannot be executed.
        case commandNotExecutable
        /// The systemd manager or the bus could not be reached.
        case managerUnavailable
        /// systemd refused or failed to start or stop a unit.
        case unitFailed
        /// The host cannot enforce something asked for (a controller, seccomp).
        case unsupportedHost
        /// A guardrail refused the start (backoff, circuit breaker, instance cap).
        case refused
        /// A system call failed.
        case system
    }

    public var code: Code
    /// What happened, as a sentence.
    public var message: String
    /// The step that failed, e.g. "StartTransientUnit" or "seccomp".
    public var stage: String?
    /// The errno behind the failure, when there is one.
    public var errno: Int32?
    /// The D-Bus error name, e.g. "org.freedesktop.systemd1.UnitExists".
    public var busErrorName: String?

    public init(_ code: Code, _ message: String, stage: String? = nil, errno: Int32? = nil, busErrorName: String? = nil) {
        self.code = code
        self.message = message
        self.stage = stage
        self.errno = errno
        self.busErrorName = busErrorName
    }

    public var description: String { message }

    /// The exit status `corral` uses for this failure: shell conventions for the command itself, sysexits(3) otherwise.
    public var exitCode: Int32 {
        switch code {
        case .commandNotFound: 127
        case .commandNotExecutable: 126
        case .invalidConfiguration: 64  // EX_USAGE
        case .managerUnavailable, .unsupportedHost: 69  // EX_UNAVAILABLE
        case .refused: 75  // EX_TEMPFAIL
        case .unitFailed, .system: 71  // EX_OSERR
        }
    }

    static func invalid(_ field: String, _ value: String, _ expected: String) -> CorralError {
        CorralError(.invalidConfiguration, "invalid \(field) '\(value)': \(expected)")
    }
}
