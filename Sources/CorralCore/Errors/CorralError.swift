/// The one error type Corral throws: what failed, at which stage, and what the OS or systemd said about it.
///
/// Its `description` is a full sentence a user can act on; `exitCode` is what the `corral` command exits with.
public struct CorralError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure. A struct over a private enum, so that new kinds do not break a client's `switch`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: String, Sendable {
            case invalidConfiguration, commandNotFound, commandNotExecutable, managerUnavailable, unitFailed
            case unsupportedHost, refused, system, inputUnavailable, outputFailed, protocolViolation
        }

        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// A configuration value, limit, option or input document is malformed or inconsistent. Nothing was started.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The command does not exist (on PATH or at the given path).
        public static let commandNotFound = Code(.commandNotFound)
        /// The command exists but cannot be executed.
        public static let commandNotExecutable = Code(.commandNotExecutable)
        /// The systemd manager or the bus could not be reached.
        public static let managerUnavailable = Code(.managerUnavailable)
        /// systemd refused or failed to start or stop a unit.
        public static let unitFailed = Code(.unitFailed)
        /// The host cannot enforce something asked for (a controller, seccomp).
        public static let unsupportedHost = Code(.unsupportedHost)
        /// A guardrail refused the start (backoff, circuit breaker, instance cap).
        public static let refused = Code(.refused)
        /// A system call failed.
        public static let system = Code(.system)
        /// A file to read does not exist or cannot be read.
        public static let inputUnavailable = Code(.inputUnavailable)
        /// A file (or a temporary file next to it) cannot be written.
        public static let outputFailed = Code(.outputFailed)
        /// A server broke the MCP protocol: it closed its stdout, wrote something that is not JSON-RPC, or answered
        /// with an error.
        public static let protocolViolation = Code(.protocolViolation)

        /// The code's name, e.g. "unitFailed".
        public var description: String { kind.rawValue }
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
    /// For a document that does not parse: where the parser stopped (1-based).
    public var line: Int?
    public var column: Int?

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
        case .inputUnavailable: 66  // EX_NOINPUT
        case .managerUnavailable, .unsupportedHost: 69  // EX_UNAVAILABLE
        case .outputFailed: 73  // EX_CANTCREAT
        case .refused: 75  // EX_TEMPFAIL
        case .protocolViolation: 76  // EX_PROTOCOL
        default: 71  // EX_OSERR: unitFailed, system
        }
    }

    /// "invalid FIELD 'VALUE': EXPECTED", the message for a value that does not parse.
    package static func invalid(_ field: String, _ value: String, _ expected: String) -> CorralError {
        CorralError(.invalidConfiguration, "invalid \(field) '\(value)': \(expected)")
    }

    /// The error for a system call that failed with `errno` (positive) at `stage`: "cannot WHAT: strerror".
    package static func system(_ what: String, errno: Int32, stage: String? = nil) -> CorralError {
        CorralError(.system, "cannot \(what): \(errnoText(errno))", stage: stage ?? what.split(separator: " ").first.map(String.init),
                    errno: errno)
    }
}

extension CorralError {
    /// The same failure under another code (a write that fails is 73 for `corral wrap`, 71 elsewhere).
    package func recoded(_ code: Code) -> CorralError {
        var error = self
        error.code = code
        return error
    }
}
