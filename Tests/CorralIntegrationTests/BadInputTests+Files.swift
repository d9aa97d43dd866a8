import Corral
import Foundation
import Testing

/// The bad-input battery's files: seccomp profiles and MCP configurations that are missing, unreadable or malformed.
extension BadInputTests {
    // MARK: - Files: seccomp profiles and MCP configurations

    /// What a case puts at the path it passes.
    enum FileContents: Sendable {
        case text(String)
        case bytes([UInt8])
        case size(Int)
        case directory
        case missing
        case fifo
        case unreadable
        case device(String)
    }

    /// One file given to `--seccomp`, `wrap` or `unwrap`, and the message it must get.
    struct BadFile: CustomTestStringConvertible, Sendable {
        var label: String
        var contents: FileContents
        var status: Int32
        var reason: String
        var testDescription: String { label }
    }

    /// Creates what `contents` describes in a fresh directory; returns its path.
    static func materialize(_ contents: FileContents) throws -> String {
        if case .device(let device) = contents { return device }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-bad-\(token())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/input.json"
        switch contents {
        case .text(let text): try text.write(toFile: path, atomically: false, encoding: .utf8)
        case .bytes(let bytes): try Data(bytes).write(to: URL(fileURLWithPath: path))
        case .size(let count): try Data(repeating: UInt8(ascii: " "), count: count).write(to: URL(fileURLWithPath: path))
        case .directory: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case .missing: break
        case .fifo: #expect(mkfifo(path, 0o600) == 0)
        case .unreadable:
            try "{}".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(chmod(path, 0) == 0)
        case .device: break
        }
        return path
    }

    static func file(_ label: String, _ contents: FileContents, _ reason: String, status: Int32 = 64) -> BadFile {
        BadFile(label: label, contents: contents, status: status, reason: reason)
    }

    static let profiles: [BadFile] = [
        file("empty file", .text(""), "the file is empty"),
        file("missing file", .missing, "No such file or directory"),
        file("directory", .directory, "it is a directory"),
        file("FIFO", .fifo, "not a regular file"),
        file("/dev/zero", .device("/dev/zero"), "not a regular file"),
        file("/dev/null", .device("/dev/null"), "not a regular file"),
        file("10 MB file", .size(10_000_000), "10000000 bytes"),
        file("truncated JSON", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": ["#), "line 1, column 50"),
        file("trailing comma", .text("{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [],\n}"), "line 3, column 1"),
        file("bare word", .text("{\n  \"defaultAction\": SCMP_ACT_ALLOW\n}"), "line 2, column 20"),
        file("byte order mark", .bytes([0xEF, 0xBB, 0xBF] + Array("{}".utf8)), "byte order mark"),
        file("not UTF-8", .bytes([0x7B, 0xFF, 0x7D]), "line 1, column 2"),
        file("array at the top", .text("[]"), "expected a JSON object"),
        file("no defaultAction", .text("{}"), "'defaultAction' is missing"),
        file("defaultAction a number", .text(#"{"defaultAction": 1}"#), "'defaultAction' must be a string"),
        file("unknown default action", .text(#"{"defaultAction": "SCMP_ACT_MAYBE"}"#), "unknown action 'SCMP_ACT_MAYBE'"),
        file("SCMP_ACT_NOTIFY", .text(#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#), "needs a tracer or a supervisor"),
        file("defaultErrnoRet too big", .text(#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 99999}"#),
             "'defaultErrnoRet' must be an errno number from 0 to 4095, not 99999"),
        file("defaultErrnoRet negative", .text(#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}"#), "not -1"),
        file("syscalls an object", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}"#), "'syscalls' must be an array"),
        file("typo: syscall", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscall": []}"#), "unknown key 'syscall'"),
        file("architectures a string", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": "x86"}"#),
             "'architectures' must be an array"),
        file("unknown architecture", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PDP11"]}"#),
             "unknown architecture 'SCMP_ARCH_PDP11'"),
        file("rule not an object", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [1]}"#), "syscalls[0] is not an object"),
        file("names a string", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "ptrace", "action": "SCMP_ACT_ERRNO"}]}"#),
             "syscalls[0].names must be an array"),
        file("names not strings", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace", 1], "action": "SCMP_ACT_ERRNO"}]}"#),
             "must be an array of strings, but holds 1"),
        file("typo: nmes", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"nmes": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}"#),
             "unknown key 'nmes'"),
        file("no action", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"]}]}"#), "has no 'action'"),
        file("unknown rule action", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "DENY"}]}"#),
             "unknown action 'DENY'"),
        file("errnoRet a string", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": "EPERM"}]}"#),
             "errnoRet must be an errno number"),
        file("args an object", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "args": {}}]}"#),
             "args must be an array"),
        file("argument index 9", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#),
             "an argument index must be 0 to 5"),
        file("unknown operator", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_ABOUT"}]}]}"#),
             "unknown argument operator 'SCMP_CMP_ABOUT'"),
        file("negative argument value", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}"#),
             "must be a non-negative integer"),
        file("an argument compared twice", .text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mmap"], "action": "SCMP_ACT_TRAP", "args": [{"index": 2, "value": 2, "op": "SCMP_CMP_LT"}, {"index": 2, "value": 3, "op": "SCMP_CMP_LE"}]}]}"#),
             "argument 2 is compared twice"),
        file("nested 600 deep", .text(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)), "nested too deeply"),
    ] + (Guest.isRoot ? [] : [file("unreadable file", .unreadable, "Permission denied")])

    @Test(arguments: profiles)
    func invalidSeccompProfile(_ profile: BadFile) async throws {
        let path = try Self.materialize(profile.contents)
        defer { Self.remove(path) }
        let token = Self.token()
        try await Self.expectRejected(["run", "--name", "seccomp\(token)", "--seccomp", path] + Self.server,
                                      status: profile.status, quoting: [path, profile.reason], token: token)
    }

    /// Removes a case's file and its directory (but never a device).
    static func remove(_ path: String) {
        guard path.hasPrefix(FileManager.default.temporaryDirectory.path) else { return }
        _ = chmod(path, 0o600)
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    static let configurations: [BadFile] = [
        file("missing file", .missing, "No such file or directory", status: 66),
        file("directory", .directory, "not a regular file", status: 66),
        file("FIFO", .fifo, "not a regular file", status: 66),
        file("/dev/zero", .device("/dev/zero"), "not a regular file", status: 66),
        file("empty file", .text(""), "line 1, column 1: unexpected end of input"),
        file("whitespace only", .text(" \n\n "), "line 3, column 2: unexpected end of input"),
        file("trailing comma", .text("{\"mcpServers\": {\"a\": {\"command\": \"x\",}}}"), "line 1, column 38: expected a string key"),
        file("comment", .text("{\n  // servers\n  \"mcpServers\": {}\n}"), "line 2, column 3"),
        file("single quotes", .text("{'mcpServers': {}}"), "line 1, column 2"),
        file("not UTF-8", .bytes([0x7B, 0xFF, 0xFE, 0x7D]), "not UTF-8 text"),
        file("two documents", .text(#"{"mcpServers": {}} {}"#), "unexpected text after the JSON value"),
        file("array at the top", .text("[1, 2]"), "the document is not a JSON object"),
        file("a string at the top", .text(#""mcpServers""#), "the document is not a JSON object"),
        file("no servers", .text(#"{"servers": {}}"#), "no MCP servers found"),
        file("mcpServers an array", .text(#"{"mcpServers": []}"#), "'mcpServers' is not an object of servers"),
        file("mcpServers null", .text(#"{"mcpServers": null}"#), "'mcpServers' is not an object of servers"),
        file("mcp.servers a number", .text(#"{"mcp": {"servers": 3}}"#), "'mcp.servers' is not an object of servers"),
        file("nested 600 deep", .text(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)), "nested too deeply"),
    ] + (Guest.isRoot ? [] : [file("unreadable file", .unreadable, "Permission denied", status: 66)])

    @Test(arguments: configurations, ["wrap", "unwrap"])
    func invalidConfiguration(_ configuration: BadFile, command: String) async throws {
        let path = try Self.materialize(configuration.contents)
        defer { Self.remove(path) }
        try await Self.expectRejected([command, path], status: configuration.status,
                                      quoting: [path, configuration.reason], token: nil)
        if case .device = configuration.contents { return }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)) ?? []
        #expect(leftovers.allSatisfy { $0 == "input.json" }, "no backup or temporary file: \(leftovers)")
    }

    /// Servers that wrap cannot put under corral are left alone, each with the reason on stderr; exit 0.
    static let unwrappable: [(entry: String, reason: String)] = [
        (#"{"args": ["x"]}"#, "no command"),
        (#"{"command": 5}"#, "command is not a non-empty string"),
        (#"{"command": ""}"#, "command is not a non-empty string"),
        (#"{"command": "npx", "args": "-y x"}"#, "args is not an array of strings"),
        (#"{"command": "npx", "args": ["-y", 1]}"#, "args is not an array of strings"),
        (#""npx -y x""#, "not an object"),
        (#"{"url": "https://example.com/mcp", "command": "x"}"#, "remote server (url)"),
    ]

    @Test(arguments: unwrappable.indices)
    func unwrappableServerIsLeftAlone(_ index: Int) throws {
        let (entry, reason) = Self.unwrappable[index]
        let text = #"{"mcpServers": {"odd": \#(entry)}}"#
        let path = try Self.materialize(.text(text))
        defer { Self.remove(path) }
        let outcome = try Guest.corral(["wrap", "--in-place", path])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stderr.contains("skipped 'odd': \(reason)"), "\(outcome)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text, "nothing is written")
        #expect(!FileManager.default.fileExists(atPath: path + MCPConfig.backupSuffix), "no backup")
    }

    @Test func serverKeysThatAreNoNamesAreLeftAlone() throws {
        let path = try Self.materialize(.text(#"{"mcpServers": {"": {"command": "x"}, "a\u001bb": {"command": "y"}, "ok": {"command": "z"}}}"#))
        defer { Self.remove(path) }
        let outcome = try Guest.corral(["wrap", path])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stderr.contains("skipped '': invalid server name ''"), "\(outcome)")
        #expect(outcome.stderr.contains("a name cannot contain control characters"), "\(outcome)")
        #expect(outcome.stderr.contains("wrapped 'ok'"), "\(outcome)")
    }
}
