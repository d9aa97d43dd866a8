import CorralCore
import Glibc
import Testing

@Suite("MCPConfig")
struct MCPConfigTests {
    private func wrapped(_ text: String, corral: String = "corral", _ options: [(String, String)] = []) throws -> MCPConfig.Rewrite {
        var run = MCPConfig.RunOptions()
        for (name, value) in options { try run.append(name, value) }
        return try MCPConfig.wrap(JSON(parsing: text), corral: corral, options: run)
    }

    private func failure(_ body: () throws(CorralError) -> Void) -> CorralError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: wrapping

    static let claude = """
        {
          "globalShortcut": "Ctrl+Space",
          "mcpServers": {
            "filesystem": {
              "command": "npx",
              "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/Desktop", "--", "x"],
              "env": {"DEBUG": "1"},
              "cwd": "/tmp",
              "x-unknown": [1.50, {"z": 1, "a": 2}]
            },
            "time": {"command": "uvx", "args": ["mcp-server-time", "--local-timezone=Europe/Paris"]},
            "remote": {"url": "https://example.com/mcp"}
          },
          "zeta": 1e3
        }
        """

    @Test("a Claude Desktop configuration is wrapped exactly, with the options after --name")
    func wrapClaude() throws {
        let rewrite = try wrapped(Self.claude, [("--memory-max", "512M"), ("--property", "MemoryHigh=400M"), ("--seccomp", "default")])
        #expect(MCPConfig.render(rewrite.document) == """
            {
              "globalShortcut": "Ctrl+Space",
              "mcpServers": {
                "filesystem": {
                  "command": "corral",
                  "args": [
                    "run",
                    "--name",
                    "filesystem",
                    "--memory-max",
                    "512M",
                    "-p",
                    "MemoryHigh=400M",
                    "--seccomp",
                    "default",
                    "--",
                    "npx",
                    "-y",
                    "@modelcontextprotocol/server-filesystem",
                    "/home/me/Desktop",
                    "--",
                    "x"
                  ],
                  "env": {
                    "DEBUG": "1"
                  },
                  "cwd": "/tmp",
                  "x-unknown": [
                    1.50,
                    {
                      "z": 1,
                      "a": 2
                    }
                  ]
                },
                "time": {
                  "command": "corral",
                  "args": [
                    "run",
                    "--name",
                    "time",
                    "--memory-max",
                    "512M",
                    "-p",
                    "MemoryHigh=400M",
                    "--seccomp",
                    "default",
                    "--",
                    "uvx",
                    "mcp-server-time",
                    "--local-timezone=Europe/Paris"
                  ]
                },
                "remote": {
                  "url": "https://example.com/mcp"
                }
              },
              "zeta": 1e3
            }

            """)
        #expect(rewrite.changes.map(\.description) == [
            "wrapped 'filesystem'", "wrapped 'time'", "skipped 'remote': remote server (url)",
        ])
        #expect(rewrite.changes.allSatisfy { $0.section == "mcpServers" })
        #expect(rewrite.changed)
    }

    @Test("an OpenClaw configuration is wrapped exactly, with --corral's path")
    func wrapOpenClaw() throws {
        let text = """
            {"agents": {"default": "main"}, "mcp": {"enabled": true, "servers": {
              "git": {"command": "python3", "args": ["-m", "mcp_server_git"], "cwd": "/srv/repo", "env": {"X": "y"}},
              "web": {"type": "sse", "url": "http://localhost:3000/sse"}
            }, "timeout": 30}}
            """
        let rewrite = try wrapped(text, corral: "/usr/local/bin/corral", [("--tasks-max", "64"), ("--max-instances", "2")])
        #expect(rewrite.document.compactText == #"""
            {"agents":{"default":"main"},"mcp":{"enabled":true,"servers":{"git":{"command":"/usr/local/bin/corral","args":["run","--name","git","--tasks-max","64","--max-instances","2","--","python3","-m","mcp_server_git"],"cwd":"/srv/repo","env":{"X":"y"}},"web":{"type":"sse","url":"http://localhost:3000/sse"}},"timeout":30}}
            """#)
        #expect(rewrite.changes.map(\.section) == ["mcp.servers", "mcp.servers"])
        #expect(rewrite.changes.map(\.description) == ["wrapped 'git'", "skipped 'web': remote server (url)"])
    }

    @Test("both sections in one file are wrapped")
    func bothSections() throws {
        let rewrite = try wrapped(#"{"mcpServers": {"a": {"command": "a"}}, "mcp": {"servers": {"b": {"command": "b"}}}}"#)
        #expect(rewrite.changes.map(\.section) == ["mcpServers", "mcp.servers"])
        #expect(rewrite.changes.allSatisfy { $0.isRewrite })
    }

    @Test("wrapping twice changes nothing, whatever the options the second time")
    func idempotent() throws {
        let once = try wrapped(Self.claude, [("--memory-max", "1G")])
        let twice = try MCPConfig.wrap(once.document, options: {
            var options = MCPConfig.RunOptions()
            try options.append("--tasks-max", "10")
            return options
        }())
        #expect(twice.document == once.document)
        #expect(!twice.changed)
        #expect(twice.changes.map(\.description) == [
            "skipped 'filesystem': already runs under corral", "skipped 'time': already runs under corral",
            "skipped 'remote': remote server (url)",
        ])
        // An entry someone put under corral by hand (any path named corral) counts as wrapped too.
        let manual = try wrapped(#"{"mcpServers": {"m": {"command": "/opt/bin/corral", "args": ["run", "--", "x"]}}}"#)
        #expect(!manual.changed)
        // So does the --corral path, whatever its name; but not a corral command that is not `run`.
        let custom = try wrapped(#"{"mcpServers": {"c": {"command": "/opt/c-dev", "args": ["run", "--", "x"]}}}"#, corral: "/opt/c-dev")
        #expect(!custom.changed)
        let other = try wrapped(#"{"mcpServers": {"c": {"command": "corral", "args": ["ps"]}}}"#)
        #expect(other.changed)
    }

    @Test("remote and unusable servers are untouched", arguments: [
        (#"{"url": "https://x/mcp", "command": "ignored"}"#, "remote server (url)"),
        (#"{"type": "sse", "command": "x"}"#, "remote server (type sse)"),
        (#"{"type": "http", "headers": {"A": "b"}}"#, "remote server (type http)"),
        (#"{"type": "streamable-http", "command": "x"}"#, "remote server (type streamable-http)"),
        (#"{"disabled": true}"#, "no command"),
        (#"{"command": ["npx"]}"#, "command is not a non-empty string"),
        (#"{"command": ""}"#, "command is not a non-empty string"),
        (#"{"command": "npx", "args": "-y x"}"#, "args is not an array of strings"),
        (#"{"command": "npx", "args": ["-y", 3]}"#, "args is not an array of strings"),
        (#""npx x""#, "not an object"),
    ])
    func untouched(entry: String, reason: String) throws {
        let text = #"{"mcpServers": {"s": "# + entry + "}}"
        let rewrite = try wrapped(text, [("--memory-max", "1G")])
        #expect(rewrite.document == (try JSON(parsing: text)))
        #expect(rewrite.changes == [MCPConfig.Change(section: "mcpServers", server: "s", action: .skipped(reason))])
        #expect(!rewrite.changed)
    }

    @Test("a stdio type and unknown keys stay, in their order, everywhere")
    func orderKept() throws {
        let text = #"""
            {"z": {"b": 1, "a": [0.10, -0, "é😀"]}, "mcpServers": {"k": {"x": null, "type": "stdio", "env": {"Z": "1", "A": "2"}, "command": "c", "y": false, "args": ["a\nb", "\u0001"]}}, "a": {}}
            """#
        let rewrite = try wrapped(text)
        guard case .object(let top) = rewrite.document, case .object(let entry)? = rewrite.document["mcpServers"]?["k"] else {
            Issue.record("not objects")
            return
        }
        #expect(top.map(\.key) == ["z", "mcpServers", "a"])
        #expect(entry.map(\.key) == ["x", "type", "env", "command", "y", "args"])
        #expect(rewrite.document["z"] == (try JSON(parsing: text))["z"])
        #expect(rewrite.document["mcpServers"]?["k"]?["env"]?.compactText == #"{"Z":"1","A":"2"}"#)
        #expect(rewrite.document["mcpServers"]?["k"]?["args"] == .array(["run", "--name", "k", "--", "c", "a\nb", "\u{01}"].map(JSON.string)))
    }

    @Test("a server name that cannot be one is skipped, with the reason")
    func badName() throws {
        let rewrite = try wrapped(#"{"mcpServers": {"": {"command": "x"}, "tab\there": {"command": "y"}, "ok name/with slash": {"command": "z"}}}"#)
        #expect(rewrite.changes.map(\.isRewrite) == [false, false, true])
        #expect(rewrite.changes[0].description.contains("cannot be empty"))
    }

    // MARK: options

    @Test("run options are validated as run validates them", arguments: [
        ("--memory-max", "5x", "invalid --memory-max '5x'"),
        ("--memory-high", "", "invalid --memory-high"),
        ("--memory-swap-max", "lots", "invalid --memory-swap-max"),
        ("--tasks-max", "0", "invalid --tasks-max '0'"),
        ("--cpu-quota", "fast", "invalid --cpu-quota"),
        ("--runtime-max", "soon", "invalid --runtime-max"),
        ("-p", "Nice=5", "not a scope property"),
        ("--property", "MemoryHigh", "expected NAME=VALUE"),
        ("-p", "CPUWeight=0", "expected a weight"),
        ("--seccomp", "/nonexistent/profile.json", "cannot read seccomp profile"),
        ("--oom-score-adj", "1001", "expected a number from -1000 to 1000"),
        ("--slice", "corral", "expected a slice unit name"),
        ("--min-uptime", "0", "invalid --min-uptime"),
        ("--backoff-max", "x", "invalid --backoff-max"),
        ("--breaker-threshold", "0", "expected a number from 1 to 1000"),
        ("--breaker-open", "-1s", "invalid --breaker-open"),
        ("--max-instances", "many", "expected a number from 1 to 100000"),
        ("--name", "x", "not a corral run option"),
        ("--exec", "", "not a corral run option"),
    ])
    func invalidOption(name: String, value: String, message: String) {
        var options = MCPConfig.RunOptions()
        do {
            try options.append(name, value)
            Issue.record("\(name) \(value) was accepted")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.exitCode == 64)
        }
        #expect(options.arguments.isEmpty)
    }

    @Test("valid options pass through in order, -p under its short name")
    func validOptions() throws {
        var options = MCPConfig.RunOptions()
        let given = [("--slice", "mcp.slice"), ("--memory-max", "25%"), ("--memory-high", "infinity"),
                     ("--memory-swap-max", "0"), ("--tasks-max", "infinity"), ("--cpu-quota", "150%"),
                     ("--runtime-max", "1h 30min"), ("--property", "OOMPolicy=kill"), ("--seccomp", "none"),
                     ("--oom-score-adj", "-100"), ("--min-uptime", "5s"), ("--backoff-max", "1min"),
                     ("--breaker-threshold", "5"), ("--breaker-open", "10min"), ("--max-instances", "3"),
                     ("--sandbox", "default"), ("--read", "/"), ("--write", "/"), ("--hide", "/"), ("--network", "loopback"),
                     ("--connect", "443"), ("--bind", "0")]
        for (name, value) in given { try options.append(name, value) }
        #expect(options.arguments == given.flatMap { [$0.0 == "--property" ? "-p" : $0.0, $0.1] })
        #expect(MCPConfig.RunOptions.names.count == 22)
    }

    // MARK: unwrapping

    static let roundTrips = [
        claude,
        #"{"mcp": {"servers": {"a": {"command": "node", "args": ["server.js", "--", "--port", "0"], "cwd": "/x"}}}}"#,
        #"{"mcpServers": {"noargs": {"command": "/usr/bin/srv", "env": {}}, "empty": {"command": "x", "args": []}}}"#,
        #"{"mcpServers": {"first": {"args": ["a"], "command": "b"}, "remote": {"type": "http", "url": "u"}}}"#,
        #"{"mcpServers": {}}"#,
        #"{"mcpServers": {"already": {"command": "corral", "args": ["run", "--name", "x", "--", "y"]}, "plain": {"command": "p"}}}"#,
        #"{"other": [1, 2.0], "mcpServers": {"s": {"command": "c", "args": ["run", "--"], "z": {"deep": [null]}}}, "mcp": {"servers": {"t": {"command": "d"}}}}"#,
    ]

    @Test("unwrap(wrap(x)) == x", arguments: roundTrips)
    func roundTrip(text: String) throws {
        let original = try JSON(parsing: text)
        let wrapped = try self.wrapped(text, [("--memory-max", "512M"), ("-p", "MemoryHigh=1G"), ("--seccomp", "default")])
        let unwrapped = try MCPConfig.unwrap(wrapped.document)
        // "already" was corral from the start, so unwrap restores what was inside it: everything else round-trips.
        if text.contains("already") {
            #expect(unwrapped.document["mcpServers"]?["plain"] == original["mcpServers"]?["plain"])
        } else {
            #expect(unwrapped.document == original)
        }
        #expect(unwrapped.changes.filter(\.isRewrite).count >= wrapped.changes.filter(\.isRewrite).count)
        // Through the renderer as well: the written text parses back to the same thing.
        #expect(try MCPConfig.unwrap(JSON(parsing: MCPConfig.render(wrapped.document))).document == unwrapped.document)
    }

    @Test("unwrap reports the dropped options and leaves what corral did not wrap")
    func unwrapReport() throws {
        let text = #"""
            {"mcpServers": {
              "w": {"command": "corral", "args": ["run", "--name", "w", "--tasks-max", "9", "--", "x", "--", "y"]},
              "custom": {"command": "/opt/c", "args": ["run", "--", "z"]},
              "nodash": {"command": "corral", "args": ["run", "--memory-max", "1G", "npx", "s"]},
              "nocommand": {"command": "corral", "args": ["run", "--name", "n", "--"]},
              "ps": {"command": "corral", "args": ["ps"]},
              "plain": {"command": "npx"},
              "remote": {"url": "u"}
            }}
            """#
        let rewrite = try MCPConfig.unwrap(JSON(parsing: text))
        #expect(rewrite.changes.map(\.description) == [
            "unwrapped 'w' (dropped: --tasks-max 9)",
            "skipped 'custom': not run by corral",
            "skipped 'nodash': no '--' followed by a command in its args",
            "skipped 'nocommand': no '--' followed by a command in its args",
            "skipped 'ps': not run by 'corral run'",
            "skipped 'plain': not run by corral",
            "skipped 'remote': remote server (url)",
        ])
        #expect(rewrite.document["mcpServers"]?["w"]?.compactText == #"{"command":"x","args":["--","y"]}"#)
        let custom = try MCPConfig.unwrap(JSON(parsing: text), corral: "/opt/c")
        #expect(custom.document["mcpServers"]?["custom"]?.compactText == #"{"command":"z","args":[]}"#)
    }

    // MARK: refusals

    @Test("invalid JSON is refused with the file, line and column")
    func invalidJSON() {
        let error = failure { () throws(CorralError) in
            _ = try MCPConfig.parse("{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\",}\n  }\n}", file: "claude.json")
        }
        #expect(error?.line == 3)
        #expect(error?.column == 26)
        #expect(error?.message == "claude.json: invalid JSON at line 3, column 26: expected a string key")
        #expect(error?.exitCode == 64)
    }

    @Test("a configuration without servers is refused", arguments: [
        (#"{"servers": {}}"#, "no MCP servers found"),
        (#"{"mcp": {"enabled": true}}"#, "no MCP servers found"),
        (#"[]"#, "not a JSON object"),
        (#"{"mcpServers": []}"#, "'mcpServers' is not an object"),
        (#"{"mcp": {"servers": null}}"#, "'mcp.servers' is not an object"),
    ])
    func missingSection(text: String, message: String) throws {
        let document = try JSON(parsing: text)
        let wrapError = failure { () throws(CorralError) in _ = try MCPConfig.wrap(document) }
        let unwrapError = failure { () throws(CorralError) in _ = try MCPConfig.unwrap(document) }
        for error in [wrapError, unwrapError] {
            #expect(error?.message.contains(message) == true, "\(String(describing: error))")
            #expect(error?.code == .invalidConfiguration)
        }
    }

    // MARK: files

    /// A directory under /tmp, removed with everything in it at the end.
    private struct TemporaryDirectory {
        let path: String

        init() {
            var template = Array("/tmp/corral-mcpconfig-XXXXXX".utf8CString)
            let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
            precondition(result != nil)
            path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }

        func file(_ name: String) -> String { path + "/" + name }

        func write(_ name: String, _ text: String, mode: mode_t = 0o644) {
            let fd = open(file(name), O_WRONLY | O_CREAT | O_TRUNC, mode)
            precondition(fd >= 0)
            _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            fchmod(fd, mode)
            close(fd)
        }

        func read(_ name: String) -> String? {
            let fd = open(file(name), O_RDONLY)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                bytes += buffer.prefix(n)
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        func mode(_ name: String) -> mode_t {
            var status = stat()
            stat(file(name), &status)
            return status.st_mode & 0o7777
        }

        var entries: [String] {
            (DirectoryEntries.names(atPath: path) ?? []).sorted()
        }

        func remove() {
            for name in entries { unlink(file(name)) }
            rmdir(path)
        }
    }

    private static let original = """
        {
            "mcpServers": { "fs": { "command": "npx", "args": [ "-y", "server-fs", "/srv" ] },
                            "bare": { "command": "/opt/bare" },
                            "remote": { "url": "https://x" } },
            "theme": "dark"
        }

        """

    @Test("wrap without --in-place prints and writes nothing")
    func wrapToOutput() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("c.json", Self.original)
        let result = try MCPConfig.wrapFile(directory.file("c.json"), inPlace: false)
        #expect(result.output == MCPConfig.render(try wrapped(Self.original).document))
        #expect(!result.wrote && !result.createdBackup)
        #expect(directory.entries == ["c.json"])
        #expect(directory.read("c.json") == Self.original)
    }

    @Test("wrap --in-place keeps the first original, replaces atomically, and unwrap restores it byte for byte")
    func inPlaceRoundTrip() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("c.json", Self.original, mode: 0o600)
        let path = directory.file("c.json")
        var options = MCPConfig.RunOptions()
        try options.append("--memory-max", "256M")

        let first = try MCPConfig.wrapFile(path, options: options, inPlace: true)
        #expect(first.wrote && first.createdBackup && first.output == nil)
        #expect(first.backup == path + ".corral-backup")
        #expect(directory.entries == ["c.json", "c.json.corral-backup"])  // no temporary file left
        #expect(directory.read("c.json.corral-backup") == Self.original)
        let wrappedText = try #require(directory.read("c.json"))
        #expect(wrappedText == MCPConfig.render(try wrapped(Self.original, [("--memory-max", "256M")]).document))
        #expect(wrappedText.hasSuffix("}\n"))
        #expect(directory.mode("c.json") == 0o600 && directory.mode("c.json.corral-backup") == 0o600)

        // Again, with a server added by hand in between: only that one is wrapped, and the backup stays the first.
        var document = try JSON(parsing: wrappedText)
        document["mcpServers"]?["added"] = try JSON(parsing: #"{"command": "added"}"#)
        directory.write("c.json", MCPConfig.render(document), mode: 0o600)
        let second = try MCPConfig.wrapFile(path, inPlace: true)
        #expect(second.wrote && !second.createdBackup)
        #expect(second.changes.filter(\.isRewrite).map(\.server) == ["added"])
        #expect(directory.read("c.json.corral-backup") == Self.original)

        // Nothing left to wrap: the file is not even rewritten.
        directory.write("c.json", wrappedText, mode: 0o600)
        let third = try MCPConfig.wrapFile(path, inPlace: true)
        #expect(!third.wrote && !third.changes.contains(where: \.isRewrite))
        #expect(directory.read("c.json") == wrappedText)

        // Unchanged since wrapping: the backup comes back byte for byte, and goes.
        let printed = try MCPConfig.unwrapFile(path, inPlace: false)
        #expect(printed.restoredFromBackup && printed.output == Self.original && !printed.wrote)
        #expect(directory.read("c.json") == wrappedText)
        let restored = try MCPConfig.unwrapFile(path, inPlace: true)
        #expect(restored.restoredFromBackup && restored.wrote)
        #expect(directory.read("c.json") == Self.original)
        #expect(directory.entries == ["c.json"])
        #expect(directory.mode("c.json") == 0o600)
    }

    @Test("a file changed since wrapping is unwrapped structurally and the backup kept")
    func structuralUnwrap() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("c.json", Self.original)
        let path = directory.file("c.json")
        _ = try MCPConfig.wrapFile(path, inPlace: true)
        var document = try JSON(parsing: try #require(directory.read("c.json")))
        document["theme"] = .string("light")
        directory.write("c.json", MCPConfig.render(document))

        let result = try MCPConfig.unwrapFile(path, inPlace: true)
        #expect(result.wrote && !result.restoredFromBackup && result.foundBackup)
        var expected = try JSON(parsing: Self.original)
        expected["theme"] = .string("light")
        #expect(directory.read("c.json") == MCPConfig.render(expected))
        #expect(directory.read("c.json.corral-backup") == Self.original)
        #expect(directory.entries == ["c.json", "c.json.corral-backup"])
    }

    @Test("a symbolic link is followed and stays a link")
    func symbolicLink() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("real.json", Self.original)
        symlink(directory.file("real.json"), directory.file("link.json"))
        let result = try MCPConfig.wrapFile(directory.file("link.json"), inPlace: true)
        #expect(result.backup == directory.file("real.json.corral-backup"))
        var status = stat()
        lstat(directory.file("link.json"), &status)
        #expect(status.st_mode & S_IFMT == S_IFLNK)
        #expect(directory.read("real.json.corral-backup") == Self.original)
        #expect(try MCPConfig.unwrap(JSON(parsing: #require(directory.read("link.json")))).document == (try JSON(parsing: Self.original)))
    }

    @Test("file errors: missing (66), invalid JSON naming the file (64), not UTF-8 (64), a directory (66)")
    func fileErrors() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let missing = failure { () throws(CorralError) in _ = try MCPConfig.wrapFile(directory.file("none.json"), inPlace: true) }
        #expect(missing?.code == .inputUnavailable && missing?.exitCode == 66)
        #expect(missing?.message.contains("none.json: No such file or directory") == true)

        directory.write("bad.json", "{\"mcpServers\": {\"a\": }}")
        let bad = failure { () throws(CorralError) in _ = try MCPConfig.unwrapFile(directory.file("bad.json"), inPlace: true) }
        #expect(bad?.message == directory.file("bad.json") + ": invalid JSON at line 1, column 22: unexpected character '}'")
        #expect(bad?.exitCode == 64)
        #expect(directory.read("bad.json") == "{\"mcpServers\": {\"a\": }}")

        directory.write("none.json", "{\"servers\": {}}")
        let none = failure { () throws(CorralError) in _ = try MCPConfig.wrapFile(directory.file("none.json"), inPlace: false) }
        #expect(none?.message.hasPrefix(directory.file("none.json") + ": no MCP servers found") == true)

        directory.write("latin1.json", "{\"mcpServers\": {\"\u{E9}\": {}}}")
        let fd = open(directory.file("latin1.json"), O_WRONLY | O_TRUNC)
        _ = [UInt8]([0x7B, 0x22, 0xE9, 0x22, 0x3A, 0x31, 0x7D]).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let latin1 = failure { () throws(CorralError) in _ = try MCPConfig.wrapFile(directory.file("latin1.json"), inPlace: false) }
        #expect(latin1?.message.contains("not UTF-8") == true && latin1?.exitCode == 64)

        let isDirectory = failure { () throws(CorralError) in _ = try MCPConfig.wrapFile(directory.path, inPlace: false) }
        #expect(isDirectory?.exitCode == 66)
    }

    @Test("a directory that cannot be written to: 73, and the file is untouched", .enabled(if: geteuid() != 0))
    func cannotCreate() throws {
        let directory = TemporaryDirectory()
        defer {
            chmod(directory.path, 0o755)
            directory.remove()
        }
        directory.write("c.json", Self.original)
        chmod(directory.path, 0o555)
        let error = failure { () throws(CorralError) in _ = try MCPConfig.wrapFile(directory.file("c.json"), inPlace: true) }
        #expect(error?.code == .outputFailed && error?.exitCode == 73)
        #expect(directory.read("c.json") == Self.original)
        #expect(directory.entries == ["c.json"])
    }

    @Test("a name too long for the temporary file beside it: 73 even for root, and the file is untouched")
    func cannotCreateTemporary() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let name = String(repeating: "n", count: 245) + ".json"
        directory.write(name, Self.original)
        #expect(directory.read(name) == Self.original)
        let error = failure { () throws(CorralError) in _ = try MCPConfig.wrapFile(directory.file(name), inPlace: true) }
        #expect(error?.code == .outputFailed && error?.exitCode == 73)
        #expect(error?.message.contains("cannot create a temporary file in \(directory.path)/") == true, "\(String(describing: error))")
        #expect(directory.read(name) == Self.original)
        #expect(directory.entries == [name])
    }

    @Test("a BOM is tolerated and kept in the backup")
    func byteOrderMark() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("c.json", "\u{FEFF}" + Self.original)
        _ = try MCPConfig.wrapFile(directory.file("c.json"), inPlace: true)
        #expect(directory.read("c.json.corral-backup") == "\u{FEFF}" + Self.original)
        _ = try MCPConfig.unwrapFile(directory.file("c.json"), inPlace: true)
        #expect(directory.read("c.json") == "\u{FEFF}" + Self.original)
    }
}
