@testable import CorralCore
import Testing

@Suite("ServerName")
struct ServerNameTests {
    /// Inputs and the output of `systemd-escape -- INPUT` (systemd on the development host), hard-coded.
    static let systemdEscapeTable: [(String, String)] = [
        ("time", "time"),
        ("my-server", #"my\x2dserver"#),
        ("a b", #"a\x20b"#),
        ("a/b", "a-b"),
        (".hidden", #"\x2ehidden"#),
        ("ünïcode", #"\xc3\xbcn\xc3\xafcode"#),
        ("emoji😀", #"emoji\xf0\x9f\x98\x80"#),
        ("x:y_z.1", "x:y_z.1"),
        (#"back\slash"#, #"back\x5cslash"#),
        ("a.b.", "a.b."),
        ("@scope/pkg", #"\x40scope-pkg"#),
        ("/abs", "-abs"),
        ("~tilde", #"\x7etilde"#),
        ("UPPER9", "UPPER9"),
        ("a--b", #"a\x2d\x2db"#),
        ("ß", #"\xc3\x9f"#),
        (#"a\x2db"#, #"a\x5cx2db"#),
        ("a%b+c=d,e", #"a\x25b\x2bc\x3dd\x2ce"#),
    ]

    static let roundTripNames = systemdEscapeTable.map(\.0)

    @Test("escape matches systemd-escape", arguments: systemdEscapeTable)
    func escapeMatchesSystemd(raw: String, expected: String) throws {
        #expect(ServerName.escape(raw) == expected)
        let name = try ServerName(raw)
        #expect(name.escaped == expected)
        #expect(name.rawValue == raw)
        #expect(name.description == raw)
        #expect(name.unitPrefix == "corral-\(expected)-")
    }

    @Test("unescape inverts escape", arguments: roundTripNames)
    func unescapeInvertsEscape(raw: String) {
        #expect(ServerName.unescape(Substring(ServerName.escape(raw))) == raw)
    }

    @Test("unescape refuses broken escapes", arguments: [#"a\x2"#, #"a\y20"#, #"a\xzz"#, #"\"#, #"\xff"#])
    func unescapeRejects(text: String) {
        #expect(ServerName.unescape(Substring(text)) == nil)
    }

    @Test("from(unit:) round-trips newUnitName", arguments: roundTripNames)
    func roundTrip(raw: String) throws {
        let name = try ServerName(raw)
        let unit = name.newUnitName()
        let back = try #require(ServerName.from(unit: unit))
        #expect(back.rawValue == raw)
        #expect(back == name)
    }

    @Test("newUnitName is corral-<escaped>-<8 lowercase hex>.scope", arguments: roundTripNames)
    func newUnitNameShape(raw: String) throws {
        let name = try ServerName(raw)
        for _ in 0..<20 {
            let unit = name.newUnitName()
            let prefix = "corral-\(name.escaped)-"
            #expect(unit.hasPrefix(prefix))
            #expect(unit.hasSuffix(".scope"))
            let id = unit.dropFirst(prefix.count).dropLast(".scope".count)
            #expect(id.count == 8, "\(unit)")
            #expect(id.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }, "\(unit)")
            #expect(unit.utf8.count == prefix.utf8.count + 8 + 6)
        }
    }

    @Test("two unit names differ")
    func unitNamesDiffer() throws {
        let name = try ServerName("time")
        let units = Set((0..<16).map { _ in name.newUnitName() })
        #expect(units.count == 16)
    }

    @Test("rejected names", arguments: ["", "tab\there", "new\nline", "del\u{7F}", String(repeating: "a", count: 300)])
    func rejected(raw: String) {
        #expect(throws: CorralError.self) { try ServerName(raw) }
        do {
            _ = try ServerName(raw)
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.exitCode == 64)
        }
    }

    @Test("length limit applies to the escaped form")
    func lengthLimit() throws {
        #expect(ServerName.maximumEscapedLength == 200)
        let longest = try ServerName(String(repeating: "a", count: 200))
        #expect(longest.escaped.count == 200)
        // The longest unit name still fits in systemd's 255 characters.
        #expect(longest.newUnitName().utf8.count <= 255)
        #expect(throws: CorralError.self) { try ServerName(String(repeating: "a", count: 201)) }
        // 50 dashes escape to 200 characters, 51 to 204.
        #expect(try ServerName(String(repeating: "-", count: 50)).escaped.count == 200)
        #expect(throws: CorralError.self) { try ServerName(String(repeating: "-", count: 51)) }
    }

    @Test("a too-long name's error quotes its beginning")
    func tooLongMessage() {
        do {
            _ = try ServerName(String(repeating: "b", count: 300))
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains(String(repeating: "b", count: 40) + "…"))
            #expect(error.message.contains("300"))
        }
    }

    @Test("from(unit:) ignores units that are not Corral's", arguments: [
        "sshd.service", "corral-x.scope", "corral-x-123.scope", "corral-x-123456789.scope", "corral-x-1234567.scope",
        "corral-x-12345678.service", "other-x-12345678.scope", "corral--12345678.scope", #"corral-a\x0-12345678.scope"#,
        #"corral-tab\x09x-12345678.scope"#,
    ])
    func fromForeignUnit(unit: String) {
        #expect(ServerName.from(unit: unit) == nil)
    }

    @Test("from(unit:) decodes escapes and slashes")
    func fromDecodes() throws {
        let name = try #require(ServerName.from(unit: #"corral-my\x2dserver-0badcafe.scope"#))
        #expect(name.rawValue == "my-server")
        let slash = try #require(ServerName.from(unit: "corral-a-b-0badcafe.scope"))
        #expect(slash.rawValue == "a/b")
    }

    @Test("derived(from:) names servers after their package, script or executable, then their command line", arguments: [
        (["npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp"], "server-filesystem"),
        (["uvx", "mcp-server-time"], "mcp-server-time"),
        (["npx", "-y", "some-server@1.2.3"], "some-server"),
        (["npx", "@scope/pkg@latest"], "pkg"),
        (["python3", "-m", "mcp_server_git"], "mcp_server_git"),
        (["/usr/bin/python3.12", "-u", "-m", "pkg.main"], "pkg.main"),
        (["/usr/bin/node", "server.js"], "server"),
        (["node", "--enable-source-maps", "dist/gmail.js"], "gmail"),
        (["python3", "/srv/slack.py", "--token-file", "x"], "slack"),
        (["sh", "-c", "exit 42"], "sh"),
        (["pnpm", "dlx", "mcp-thing"], "mcp-thing"),
        (["npx"], "npx"),
        (["./run.sh"], "run.sh"),
        ([], "server"),
    ])
    func derived(command: [String], expected: String) {
        let name = ServerName.derived(from: command)
        #expect(name.hasPrefix(expected + "-") && name.count == expected.count + 9, "\(name)")
        #expect(name.suffix(8).allSatisfy { $0.isHexDigit }, "\(name)")
        #expect(ServerName.derived(from: command) == name, "the same command line always gets the same name")
    }

    @Test("different command lines never share a derived name")
    func derivedNamesDiffer() {
        let commands = [["sh", "-c", "exit 42"], ["sh", "-c", "kill -TERM $$"], ["node", "gmail.js"], ["node", "slack.js"],
                        ["uvx", "mcp-server-time"], ["uvx", "mcp-server-time", "--local-timezone=UTC"],
                        ["a", "bc"], ["ab", "c"], ["abc"]]
        let names = commands.map(ServerName.derived(from:))
        #expect(Set(names).count == commands.count, "\(names)")
    }
}
