internal import Glibc

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

    /// Why a configuration could not be rewritten, with the exit status (sysexits) `corral` uses for it.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            /// Not JSON, or not an MCP client configuration (EX_DATAERR would fit too; corral uses 64 throughout).
            case invalidInput
            /// The file does not exist or cannot be read (EX_NOINPUT).
            case noInput
            /// The file, its backup or a temporary file cannot be written (EX_CANTCREAT).
            case cannotCreate
        }

        public var kind: Kind
        public var message: String
        /// For invalid JSON: where the parser stopped (1-based).
        public var line: Int?
        public var column: Int?

        public init(_ kind: Kind, _ message: String, line: Int? = nil, column: Int? = nil) {
            self.kind = kind
            self.message = message
            self.line = line
            self.column = column
        }

        public var description: String { message }

        public var exitCode: Int32 {
            switch kind {
            case .invalidInput: 64
            case .noInput: 66
            case .cannotCreate: 73
            }
        }
    }

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
        ]

        /// Validates `value` for the option spelled `name` and appends both. A relative `--seccomp` profile path is
        /// made absolute: the client starts corral from a directory of its own choosing.
        public mutating func append(_ name: String, _ value: String) throws(CorralError) {
            guard let spellings = Self.names.first(where: { $0.contains(name) }) else {
                throw CorralError(.invalidConfiguration, "'\(name)' is not a corral run option that wrap passes on")
            }
            var value = value
            switch spellings[0] {
            case "--slice": try ServerSlice.validate(value, field: name)
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
                    if !value.hasPrefix("/"), let absolute = realpath(value, nil) {
                        value = String(cString: absolute)
                        free(absolute)
                    }
                }
            // The ranges of ServerOptions and GuardrailOptions (the corral executable), where run checks them.
            case "--oom-score-adj":
                guard let number = Int32(value), (-1000...1000).contains(number) else {
                    throw .invalid(name, value, "expected a number from -1000 to 1000")
                }
            case "--breaker-threshold":
                guard let number = Int(value), (1...1000).contains(number) else {
                    throw .invalid(name, value, "expected a number from 1 to 1000")
                }
            case "--max-instances":
                guard let number = Int(value), (1...100_000).contains(number) else {
                    throw .invalid(name, value, "expected a number from 1 to 100000")
                }
            default: break
            }
            arguments += [spellings[0], value]
        }
    }

    // MARK: - Parsing and writing

    /// Parses a configuration's text; a syntax error names `file`, its line and its column.
    public static func parse(_ text: String, file: String) throws(Failure) -> JSON {
        do {
            return try JSON(parsing: text)
        } catch {
            throw Failure(.invalidInput, "\(file): invalid JSON at line \(error.line), column \(error.column): \(error.reason)",
                          line: error.line, column: error.column)
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
        throws(Failure) -> Rewrite {
        try rewrite(document) { key, entry in wrapEntry(key, entry, corral: corral, options: options.arguments) }
    }

    /// Restores each server that runs under `corral run ... --` to the command and arguments after `--`.
    /// `corral` is the path given to `wrap --corral`, when it is not named corral.
    public static func unwrap(_ document: JSON, corral: String = "corral") throws(Failure) -> Rewrite {
        try rewrite(document) { _, entry in unwrapEntry(entry, corral: corral) }
    }

    private static func rewrite(_ document: JSON, _ transform: (String, JSON) -> (JSON, Change.Action))
        throws(Failure) -> Rewrite {
        guard case .object = document else {
            throw Failure(.invalidInput, "not an MCP client configuration: the document is not a JSON object")
        }
        var document = document
        var changes: [Change] = []
        var found = false
        for path in sections {
            guard let servers = value(at: path, in: document) else { continue }
            let label = path.joined(separator: ".")
            guard case .object(var members) = servers else {
                throw Failure(.invalidInput, "'\(label)' is not an object of servers")
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
            throw Failure(.invalidInput, """
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

// MARK: - Files

extension MCPConfig {
    /// What `wrapFile` or `unwrapFile` did.
    public struct FileResult: Sendable, Equatable {
        public var changes: [Change]
        /// The new configuration, when it was not written in place (for stdout).
        public var output: String?
        /// Whether the file was replaced.
        public var wrote = false
        /// The backup's path, whether or not it exists.
        public var backup: String
        /// Whether a backup was there when unwrap read the file (and is kept, unless restored from).
        public var foundBackup = false
        /// Whether this call created the backup (wrap), or found and kept an earlier one.
        public var createdBackup = false
        /// Whether the configuration was restored byte for byte from the backup (unwrap); the backup is then removed.
        public var restoredFromBackup = false
    }

    /// `corral wrap`: reads `path`, wraps it, and writes it back (`inPlace`, after saving the original bytes as
    /// `PATH.corral-backup` unless a backup exists) or returns the text. Nothing is written when no server changes.
    public static func wrapFile(_ path: String, corral: String = "corral", options: RunOptions = RunOptions(),
                                inPlace: Bool) throws(Failure) -> FileResult {
        let file = try ConfigFile(path)
        let rewrite = try naming(path) { () throws(Failure) in
            try wrap(parse(file.text, file: path), corral: corral, options: options)
        }
        var result = FileResult(changes: rewrite.changes, backup: file.path + backupSuffix)
        guard inPlace else {
            result.output = render(rewrite.document)
            return result
        }
        guard rewrite.changed else { return result }
        result.createdBackup = try createIfAbsent(result.backup, bytes: file.bytes, like: file)
        try replace(file.path, bytes: Array(render(rewrite.document).utf8), like: file)
        result.wrote = true
        return result
    }

    /// `corral unwrap`: reads `path` and unwraps it. When `PATH.corral-backup` holds the same configuration as
    /// the unwrapped one (the file was not changed since it was wrapped, but for corral's own options), the
    /// backup's bytes are the result, so the original formatting comes back too; in place, the backup is then
    /// removed. Otherwise the structural unwrap is written, and the backup kept.
    public static func unwrapFile(_ path: String, corral: String = "corral", inPlace: Bool) throws(Failure) -> FileResult {
        let file = try ConfigFile(path)
        let rewrite = try naming(path) { () throws(Failure) in try unwrap(parse(file.text, file: path), corral: corral) }
        var result = FileResult(changes: rewrite.changes, backup: file.path + backupSuffix)
        var bytes = Array(render(rewrite.document).utf8)
        let backup = try? ConfigFile(result.backup)
        result.foundBackup = backup != nil
        if rewrite.changed, let backup, let original = try? parse(backup.text, file: result.backup),
           original == rewrite.document {
            bytes = backup.bytes
            result.restoredFromBackup = true
        }
        guard inPlace else {
            result.output = String(decoding: bytes, as: UTF8.self)
            return result
        }
        guard rewrite.changed else { return result }
        try replace(file.path, bytes: bytes, like: file)
        result.wrote = true
        if result.restoredFromBackup { _ = unlink(result.backup) }
        return result
    }

    /// Runs `body`, putting `path` in front of a failure that does not name it yet.
    private static func naming(_ path: String, _ body: () throws(Failure) -> Rewrite) throws(Failure) -> Rewrite {
        do {
            return try body()
        } catch {
            guard !error.message.hasPrefix(path + ": ") else { throw error }
            var named = error
            named.message = path + ": " + error.message
            throw named
        }
    }

    /// A configuration file read whole, with what its replacement must keep (mode, owner).
    struct ConfigFile {
        /// The path written to: a symbolic link is followed, so the link stays a link.
        var path: String
        var bytes: [UInt8]
        var text: String
        var mode: mode_t
        var owner: uid_t
        var group: gid_t

        init(_ path: String) throws(Failure) {
            var path = path
            var linkStatus = stat()
            if lstat(path, &linkStatus) == 0, linkStatus.st_mode & S_IFMT == S_IFLNK, let target = realpath(path, nil) {
                path = String(cString: target)
                free(target)
            }
            // O_NONBLOCK: opening a FIFO must not wait for a writer; only a regular file is read (checked below).
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { throw Failure(.noInput, "cannot read \(path): \(errnoText(errno))") }
            defer { close(fd) }
            var status = stat()
            guard fstat(fd, &status) == 0 else { throw Failure(.noInput, "cannot read \(path): \(errnoText(errno))") }
            guard status.st_mode & S_IFMT == S_IFREG else { throw Failure(.noInput, "cannot read \(path): not a regular file") }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw Failure(.noInput, "cannot read \(path): \(errnoText(errno))") }
                if n == 0 { break }
                bytes += buffer.prefix(n)
            }
            // A UTF-8 byte order mark (some Windows editors write one) is not JSON; the backup keeps it.
            let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...]
            guard let text = String(validating: body, as: UTF8.self) else {
                throw Failure(.invalidInput, "\(path): not UTF-8 text")
            }
            self.path = path
            self.bytes = bytes
            self.text = text
            self.mode = status.st_mode & 0o7777
            self.owner = status.st_uid
            self.group = status.st_gid
        }
    }

    /// Writes `bytes` to a new temporary file next to `path`, with `like`'s mode and (if allowed) owner, synced.
    private static func writeTemporary(next path: String, bytes: [UInt8], like file: ConfigFile) throws(Failure) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array((directory + "." + base + ".corral-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw Failure(.cannotCreate, "cannot create a temporary file in \(directory.isEmpty ? "." : directory): \(errnoText(errno))")
        }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        func fail(_ what: String, _ error: Int32) -> Failure {
            close(fd)
            unlink(temporary)
            return Failure(.cannotCreate, "cannot write \(temporary) (for \(path)): \(what): \(errnoText(error))")
        }
        _ = fchown(fd, file.owner, file.group)  // only root may give a file away; others keep their own
        guard fchmod(fd, file.mode) == 0 else { throw fail("fchmod", errno) }
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw fail("write", n < 0 ? errno : EIO) }
            rest = rest.dropFirst(n)
        }
        guard fsync(fd) == 0 else { throw fail("fsync", errno) }
        guard close(fd) == 0 else {
            let error = errno
            unlink(temporary)
            throw Failure(.cannotCreate, "cannot write \(temporary) (for \(path)): close: \(errnoText(error))")
        }
        return temporary
    }

    /// Replaces `path` with `bytes` atomically: a temporary file in the same directory, synced, renamed over it.
    static func replace(_ path: String, bytes: [UInt8], like file: ConfigFile) throws(Failure) {
        let temporary = try writeTemporary(next: path, bytes: bytes, like: file)
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw Failure(.cannotCreate, "cannot replace \(path): \(errnoText(error))")
        }
        AtomicFile.syncDirectory(of: path)
    }

    /// Creates `path` with `bytes` unless something is there already; returns whether it did. Never leaves a
    /// partial file: the bytes are synced to a temporary file first, then linked in (which fails if `path` exists).
    static func createIfAbsent(_ path: String, bytes: [UInt8], like file: ConfigFile) throws(Failure) -> Bool {
        var status = stat()
        if lstat(path, &status) == 0 { return false }
        let temporary = try writeTemporary(next: path, bytes: bytes, like: file)
        defer { unlink(temporary) }
        if link(temporary, path) == 0 {
            AtomicFile.syncDirectory(of: path)
            return true
        }
        let error = errno
        if error == EEXIST { return false }
        // A file system without hard links: a rename, after checking again that nothing appeared.
        if lstat(path, &status) != 0, rename(temporary, path) == 0 {
            AtomicFile.syncDirectory(of: path)
            return true
        }
        throw Failure(.cannotCreate, "cannot create the backup \(path): \(errnoText(error))")
    }
}
