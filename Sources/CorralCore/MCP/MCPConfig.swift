/// Rewrites an MCP client's configuration so that each of its stdio servers runs under `corral run`, and back.
///
/// Two layouts are understood: the `mcpServers` object of Claude Desktop, Claude Code (`.mcp.json`) and Cursor, and
/// OpenClaw's `mcp.servers`. A wrapped server's `command` becomes corral and its `args` become
/// `["run", "--name", KEY, OPTIONS..., "--", COMMAND, ARGS...]`; every other key, everywhere, stays as it was and
/// where it was. Remote servers (a `url`, or `type` sse, http or streamable-http) and servers already run by corral
/// are left alone, so wrapping twice changes nothing. `unwrap` restores the part after `--`.
///
/// `wrap(_:corral:options:)` and `unwrap(_:corral:)` are pure; `wrapFile` and `unwrapFile` add the file handling of
/// `corral wrap` and `corral unwrap`: a backup of the original bytes and an atomic replacement.
public enum MCPConfig {
    /// The suffix of the backup `wrapFile` keeps of the original file.
    public static let backupSuffix = ".corral-backup"

    /// What happened to one server.
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public enum Action: Sendable, Equatable {
            case wrapped
            /// Unwrapped; the corral options it was run with, which are dropped.
            case unwrapped(options: [String])
            /// Left as it was, and why.
            case skipped(String)
        }

        /// Where the server is: "mcpServers" or "mcp.servers".
        public var section: String
        /// The server's key.
        public var server: String
        public var action: Action

        public init(section: String, server: String, action: Action) {
            self.section = section
            self.server = server
            self.action = action
        }

        public var isRewrite: Bool {
            if case .skipped = action { false } else { true }
        }

        public var description: String {
            switch action {
            case .wrapped: "wrapped '\(server)'"
            case .unwrapped(let options):
                "unwrapped '\(server)'" + (options.isEmpty ? "" : " (dropped: " + options.joined(separator: " ") + ")")
            case .skipped(let reason): "skipped '\(server)': \(reason)"
            }
        }
    }

    /// A rewritten document and what happened to each server, in document order.
    public struct Rewrite: Sendable, Equatable {
        public var document: JSON
        public var changes: [Change]
        /// Whether any server was rewritten (otherwise `document` is the input).
        public var changed: Bool { changes.contains(where: \.isRewrite) }
    }

    // MARK: - Options passed on to corral run

    /// The `corral run` options that `wrap` passes on, each validated the way `run` parses it, so a bad value is
    /// refused before anything is written.
    public struct RunOptions: Sendable, Equatable {
        /// The options as they go into the wrapped `args`: name, value, name, value, ...
        public private(set) var arguments: [String] = []

        public init() {}

        /// Each option's spellings (the first is the one written into the configuration); all take a value.
        public static let names: [[String]] = [
            ["--slice"], ["--memory-max"], ["--memory-high"], ["--memory-swap-max"], ["--tasks-max"], ["--cpu-quota"],
            ["--runtime-max"], ["-p", "--property"], ["--seccomp"], ["--oom-score-adj"],
            ["--min-uptime"], ["--backoff-max"], ["--breaker-threshold"], ["--breaker-open"], ["--max-instances"],
            ["--sandbox"], ["--read"], ["--write"], ["--hide"], ["--network"], ["--connect"], ["--bind"],
        ]

        /// Validates `value` for the option spelled `name` and appends both. A relative `--seccomp` profile path is
        /// made absolute: the client starts corral from a directory of its own choosing.
        public mutating func append(_ name: String, _ value: String) throws(CorralError) {
            guard let spellings = Self.names.first(where: { $0.contains(name) }) else {
                throw CorralError(.invalidConfiguration, "'\(name)' is not a corral run option that wrap passes on")
            }
            var value = value
            if ["--seccomp", "--read", "--write", "--hide"].contains(spellings[0]) && value.contains("\0") {
                throw .invalid(name, value, "a path cannot contain a NUL character")
            }
            switch spellings[0] {
            case "--slice": try SliceName.validate(value, field: name)
            case "--memory-max", "--memory-high", "--memory-swap-max": _ = try Limits.Memory(value, field: name)
            case "--tasks-max": _ = try Limits.Tasks(value, field: name)
            case "--cpu-quota": _ = try Limits.cpuQuota(value, field: name)
            case "--runtime-max", "--min-uptime", "--backoff-max", "--breaker-open": _ = try Limits.timeSpan(value, field: name)
            case "-p":
                var limits = Limits()
                try limits.set(value)
            case "--seccomp":
                if value != "default" && value != "none" {
                    _ = try SeccompProfile(contentsOf: value)
                    if !value.hasPrefix("/"), let absolute = FilePath.resolved(value) { value = absolute }
                }
            case "--oom-score-adj": _ = try BoundedNumber.parse(value, field: name, in: BoundedNumber.oomScoreAdjust)
            case "--breaker-threshold": _ = try BoundedNumber.parse(value, field: name, in: BoundedNumber.breakerThreshold)
            case "--max-instances": _ = try BoundedNumber.parse(value, field: name, in: BoundedNumber.maximumInstances)
            case "--sandbox":
                guard Sandbox.Preset(rawValue: value) != nil else {
                    throw .invalid(name, value, "expected \(Sandbox.Preset.allCases.map(\.rawValue).joined(separator: " or "))")
                }
            case "--network": _ = try Sandbox.network(value)
            case "--connect", "--bind": _ = try Sandbox.port(value, field: name)
            case "--read", "--write", "--hide":
                // Resolved now: the client starts corral from a directory of its own choosing.
                guard let resolved = FilePath.resolved(value) else {
                    throw .invalid(name, value, "no such file or directory")
                }
                value = resolved
            default: break
            }
            arguments += [spellings[0], value]
        }
    }

    // MARK: - Parsing and writing

    /// Parses a configuration's text; a syntax error names `file`, its line and its column.
    public static func parse(_ text: String, file: String) throws(CorralError) -> JSON {
        do {
            return try JSON(parsing: text)
        } catch {
            var failure = CorralError(.invalidConfiguration,
                                      "\(file): invalid JSON at line \(error.line), column \(error.column): \(error.reason)")
            failure.line = error.line
            failure.column = error.column
            throw failure
        }
    }

    /// The text a rewritten configuration is written as: indented by two spaces, with a final newline.
    public static func render(_ document: JSON) -> String {
        document.prettyText(indent: 2) + "\n"
    }

    // MARK: - Rewriting

    /// Where servers live: Claude Desktop / Claude Code / Cursor, then OpenClaw.
    static let sections: [[String]] = [["mcpServers"], ["mcp", "servers"]]

    /// Puts each stdio server of `document` under `corral run --name KEY OPTIONS... --`.
    public static func wrap(_ document: JSON, corral: String = "corral", options: RunOptions = RunOptions())
        throws(CorralError) -> Rewrite {
        try rewrite(document) { key, entry in wrapEntry(key, entry, corral: corral, options: options.arguments) }
    }

    /// Restores each server that runs under `corral run ... --` to the command and arguments after `--`.
    /// `corral` is the path given to `wrap --corral`, when it is not named corral.
    public static func unwrap(_ document: JSON, corral: String = "corral") throws(CorralError) -> Rewrite {
        try rewrite(document) { _, entry in unwrapEntry(entry, corral: corral) }
    }

    private static func rewrite(_ document: JSON, _ transform: (String, JSON) -> (JSON, Change.Action))
        throws(CorralError) -> Rewrite {
        guard case .object = document else {
            throw CorralError(.invalidConfiguration, "not an MCP client configuration: the document is not a JSON object")
        }
        var document = document
        var changes: [Change] = []
        var found = false
        for path in sections {
            guard let servers = value(at: path, in: document) else { continue }
            let label = path.joined(separator: ".")
            guard case .object(var members) = servers else {
                throw CorralError(.invalidConfiguration, "'\(label)' is not an object of servers")
            }
            found = true
            for index in members.indices {
                let (entry, action) = transform(members[index].key, members[index].value)
                members[index].value = entry
                changes.append(Change(section: label, server: members[index].key, action: action))
            }
            set(.object(members), at: path, in: &document)
        }
        guard found else {
            throw CorralError(.invalidConfiguration, """
                no MCP servers found: expected an "mcpServers" object (Claude Desktop, Claude Code, Cursor) \
                or "mcp": {"servers": ...} (OpenClaw)
                """)
        }
        return Rewrite(document: document, changes: changes)
    }

    private static func value(at path: [String], in document: JSON) -> JSON? {
        var current = document
        for key in path {
            guard let next = current[key] else { return nil }
            current = next
        }
        return current
    }

    private static func set(_ value: JSON, at path: [String], in document: inout JSON) {
        guard let key = path.first else {
            document = value
            return
        }
        var child = document[key] ?? .object([])
        set(value, at: Array(path.dropFirst()), in: &child)
        document[key] = child
    }

    private static let remoteTypes: Set = ["sse", "http", "streamable-http", "streamableHttp"]

    /// Whether `command` is corral: named corral, or the path given to --corral.
    private static func isCorral(_ command: String, _ corral: String) -> Bool {
        command == corral || (command.split(separator: "/").last.map(String.init) ?? command) == "corral"
    }

    private static func stringArray(_ value: JSON?) -> [String]?? {
        guard let value else { return .some(nil) }
        guard let values = value.arrayValue else { return nil }
        var strings: [String] = []
        for value in values {
            guard let string = value.stringValue else { return nil }
            strings.append(string)
        }
        return .some(strings)
    }

    private static func wrapEntry(_ key: String, _ entry: JSON, corral: String, options: [String])
        -> (JSON, Change.Action) {
        guard case .object = entry else { return (entry, .skipped("not an object")) }
        if entry["url"] != nil { return (entry, .skipped("remote server (url)")) }
        if let type = entry["type"]?.stringValue, remoteTypes.contains(type) {
            return (entry, .skipped("remote server (type \(type))"))
        }
        guard let commandValue = entry["command"] else { return (entry, .skipped("no command")) }
        guard let command = commandValue.stringValue, !command.isEmpty else {
            return (entry, .skipped("command is not a non-empty string"))
        }
        guard let arguments = stringArray(entry["args"]) else {
            return (entry, .skipped("args is not an array of strings"))
        }
        if isCorral(command, corral), arguments?.first == "run" { return (entry, .skipped("already runs under corral")) }
        do throws(CorralError) {
            _ = try ServerName(key)
        } catch {
            return (entry, .skipped(error.message))
        }
        // A key such as "--" or "-p" is written inline, or corral run would read it as a forgotten value.
        let name = key.hasPrefix("-") ? ["--name=" + key] : ["--name", key]
        let wrapped = JSON.array((["run"] + name + options + ["--", command] + (arguments ?? [])).map(JSON.string))
        var entry = entry
        entry["command"] = .string(corral)
        if arguments != nil {
            entry["args"] = wrapped
        } else {
            // No args before: "args" goes in front of "command", which tells unwrap to leave it out again (an
            // explicit "args": [] almost always follows "command").
            guard case .object(var members) = entry else { return (entry, .skipped("not an object")) }
            let at = members.lastIndex(where: { $0.key == "command" }) ?? members.startIndex
            members.insert(JSON.Member("args", wrapped), at: at)
            entry = .object(members)
        }
        return (entry, .wrapped)
    }

    private static func unwrapEntry(_ entry: JSON, corral: String) -> (JSON, Change.Action) {
        guard case .object(var members) = entry else { return (entry, .skipped("not an object")) }
        if entry["url"] != nil { return (entry, .skipped("remote server (url)")) }
        guard let command = entry["command"]?.stringValue, isCorral(command, corral) else {
            return (entry, .skipped(entry["command"] == nil ? "no command" : "not run by corral"))
        }
        guard let arguments = stringArray(entry["args"]) ?? nil, arguments.first == "run" else {
            return (entry, .skipped("not run by 'corral run'"))
        }
        guard let separator = arguments.firstIndex(of: "--"), separator + 1 < arguments.endIndex else {
            return (entry, .skipped("no '--' followed by a command in its args"))
        }
        let original = arguments[(separator + 1)...]
        var dropped = Array(arguments[1..<separator])
        if dropped.first?.hasPrefix("--name=") == true {
            dropped.removeFirst()
        } else if dropped.count >= 2, dropped[0] == "--name" {
            dropped.removeFirst(2)
        }
        let argsIndex = members.lastIndex(where: { $0.key == "args" })!
        let commandIndex = members.lastIndex(where: { $0.key == "command" })!
        members[commandIndex].value = .string(original.first!)
        let rest = original.dropFirst()
        if rest.isEmpty && argsIndex < commandIndex {
            members.remove(at: argsIndex)
        } else {
            members[argsIndex].value = .array(rest.map(JSON.string))
        }
        return (.object(members), .unwrapped(options: dropped))
    }
}
