import Corral
import Foundation
import Testing

/// The bad-input battery: malformed invocations, limits, server names, seccomp profiles, MCP configurations and
/// guardrail records. Each gets its documented exit status and one message (a single "corral: " line) quoting what
/// is wrong; nothing on stdout, which belongs to the server; no crash; and nothing left behind: no scope, no process,
/// no guardrail state, no instance record. Almost all fail before the bus is touched, so they run corral directly.
@Suite(.guestOnly)
struct BadInputTests {
    /// One malformed invocation: corral's arguments, the exit status, and text its message must contain.
    struct BadInput: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var status: Int32
        var quoted: String
        var testDescription: String { "corral " + arguments.map(\.debugDescription).joined(separator: " ") }
    }

    /// A server command that would show on stdout if a bad input ever started it.
    static let server = ["--", "echo", "the server ran"]

    static func run(_ options: [String], _ quoted: String, status: Int32 = 64) -> BadInput {
        BadInput(arguments: ["run"] + options + server, status: status, quoted: quoted)
    }

    static func cli(_ arguments: [String], _ quoted: String, status: Int32 = 64) -> BadInput {
        BadInput(arguments: arguments, status: status, quoted: quoted)
    }

    /// A random number that names one case's server, state and scope, so leftovers can be found however a name
    /// is escaped, while other tests run alongside.
    static func token() -> String { String(UInt64.random(in: 1_000_000_000...9_999_999_999)) }

    /// Where the guardrail state lives for this guest's manager.
    static var stateDirectory: String {
        Guest.isRoot ? "/run/corral"
            : (ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())") + "/corral"
    }

    /// Guardrail records and instance records whose file name contains `token`.
    static func stateEntries(containing token: String) -> [String] {
        let manager = FileManager.default
        let top = (try? manager.contentsOfDirectory(atPath: stateDirectory)) ?? []
        let instances = (try? manager.contentsOfDirectory(atPath: stateDirectory + "/instances")) ?? []
        return (top + instances.map { "instances/" + $0 }).filter { $0.contains(token) }
    }

    /// Runs corral and checks everything a rejected input must satisfy; `token` marks what must not be left.
    @discardableResult
    static func expectRejected(_ arguments: [String], status: Int32, quoting quoted: [String], token: String?,
                               sourceLocation: SourceLocation = #_sourceLocation) async throws -> Guest.Outcome {
        let outcome = try Guest.corral(arguments, timeout: 60)
        #expect(outcome.status == status, "\(outcome)", sourceLocation: sourceLocation)
        #expect(outcome.status < 128 && !outcome.stderr.contains("Fatal error") && !outcome.stderr.contains("crashed"),
                "a crash: \(outcome)", sourceLocation: sourceLocation)
        #expect(outcome.stdout.isEmpty, "stdout must stay empty: \(outcome)", sourceLocation: sourceLocation)
        let messages = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("corral: ") }
        #expect(messages.count == 1, "one message: \(outcome)", sourceLocation: sourceLocation)
        for text in quoted {
            #expect(messages.first?.contains(text) == true, "'\(text)' quoted in: \(outcome)", sourceLocation: sourceLocation)
        }
        if let token {
            #expect(stateEntries(containing: token).isEmpty, "state left: \(stateEntries(containing: token))",
                    sourceLocation: sourceLocation)
            let scopes = try await SystemdBus.shared().listUnits(matching: ["corral-*\(token)*"])
            #expect(scopes.isEmpty, "scopes left: \(scopes.map(\.name))", sourceLocation: sourceLocation)
            #expect(Guest.processes(containing: token).isEmpty, "processes left", sourceLocation: sourceLocation)
        }
        return outcome
    }

    // MARK: - Malformed invocations

    static let invocations: [BadInput] = [
        cli([], "no command given"),
        cli(["bogus"], "'bogus'"),
        cli(["RUN"], "'RUN'"),
        cli([""], "''"),
        cli(["--bogus"], "'--bogus'"),
        cli(["--"], "'--'"),
        cli(["version", "extra"], "'extra'"),
        cli(["--version", "--bogus"], "'--bogus'"),
        cli(["help", "nosuch"], "'nosuch'"),
        cli(["help", "run", "extra"], "'extra'"),
        cli(["completions"], "no shell given"),
        cli(["completions", "tcsh"], "'tcsh'"),
        cli(["completions", "bash", "zsh"], "'zsh'"),
        cli(["run"], "no command given"),
        cli(["run", "--"], "no command given"),
        run(["--bogus"], "'--bogus'"),
        run(["-Z"], "'-Z'"),
        run(["--memory"], "'--memory'"),
        cli(["run", "--memory-max"], "'--memory-max' needs a value"),
        cli(["run", "--tasks-max"], "'--tasks-max' needs a value"),
        cli(["run", "-p"], "'-p' needs a value"),
        run(["--memory-max"], "'--memory-max' is missing its value"),
        run(["--seccomp"], "'--seccomp' is missing its value"),
        run(["--network", "off"], "'off'"),
        run(["--network", "none", "--network", "host"], "given twice"),
        run(["--connect", "0"], "'0'"),
        run(["--bind", "65536"], "'65536'"),
        run(["--connect", "https"], "'https'"),
        run(["--sandbox", "lax"], "'lax'"),
        run(["--hide", "/"], "root directory"),
        run(["--read", ""], "expected a path"),
        run(["--read", "/nonexistent/corral-read"], "/nonexistent/corral-read", status: 66),
        run(["--read"], "'--read' is missing its value"),
        cli(["wrap", "--network", "off", "a.json"], "'off'"),
        run(["-E"], "'-E' is missing its value"),
        run(["--cpu-quota", "--memory-max", "1G"], "followed by '--memory-max'"),
        run(["--slice", "-p", "MemoryHigh=1G"], "followed by '-p'"),
        run(["--system", "--user"], "'--user' cannot be combined with '--system'"),
        run(["--user", "--system"], "'--system' cannot be combined with '--user'"),
        run(["--no-limits=yes"], "'yes'"),
        run(["--exec=1"], "'--exec' takes no value"),
        run(["-v=1"], "'-v' takes no value"),
        run(["--=x"], "'--'"),
        cli(["run", "--", ""], "the command is empty", status: 127),
        cli(["run", "--", "--", "true"], "'--'", status: 127),
        cli(["run", "--", "--memory-max", "1G", "true"], "'--memory-max'", status: 127),
        cli(["run", "--", "/no/such/server"], "/no/such/server", status: 127),
        cli(["run", "--", "/etc/hostname"], "/etc/hostname", status: 126),
        run(["-E", ""], "''"),
        run(["-E", "=x"], "'=x'"),
        run(["-C", "/no/such/directory"], "'/no/such/directory'"),
        cli(["check"], "no command given"),
        BadInput(arguments: ["check", "--timeout", "0"] + server, status: 64, quoted: "'0'"),
        BadInput(arguments: ["check", "--timeout", "soon"] + server, status: 64, quoted: "'soon'"),
        BadInput(arguments: ["check", "--json=yes"] + server, status: 64, quoted: "'yes'"),
        BadInput(arguments: ["check", "--user", "--system"] + server, status: 64, quoted: "cannot be combined"),
        BadInput(arguments: ["check", "--exec"] + server, status: 64, quoted: "'--exec'"),
        cli(["wrap"], "no configuration file given"),
        cli(["wrap", "a.json", "b.json"], "got 2"),
        cli(["wrap", "--name", "x", "a.json"], "'--name'"),
        cli(["wrap", "--corral", "", "a.json"], "--corral ''"),
        cli(["wrap", "--in-place=1", "a.json"], "'1'"),
        cli(["wrap", "--memory-max", "12Q", "a.json"], "'12Q'"),
        cli(["wrap", "--slice", "a--b.slice", "a.json"], "'a--b.slice'"),
        cli(["wrap", "--seccomp", "/no/profile.json", "a.json"], "/no/profile.json"),
        cli(["unwrap"], "no configuration file given"),
        cli(["unwrap", "a.json", "b.json"], "got 2"),
        cli(["unwrap", "--memory-max", "1G", "a.json"], "'--memory-max'"),
        cli(["reset"], "no server name given"),
        cli(["reset", "--bogus", "x"], "'--bogus'"),
        cli(["reset", "--system", "--user", "x"], "cannot be combined"),
        cli(["stop"], "no server given"),
        cli(["stop", "--grace", "x", "a"], "'x'"),
        cli(["stop", "--grace"], "'--grace' needs a value"),
        cli(["stop", "--user", "--system", "a"], "cannot be combined"),
        cli(["ps", "extra"], "'extra'"),
        cli(["ps", "--json=1"], "'1'"),
        cli(["ps", "--bogus"], "'--bogus'"),
        cli(["gc", "extra"], "'extra'"),
        cli(["gc", "--dry-run=yes"], "'yes'"),
        cli(["slice", "extra"], "'extra'"),
        cli(["slice", "--slice", "x y.slice"], "'x y.slice'"),
        cli(["slice", "--memory-max", "12Q"], "'12Q'"),
        cli(["slice", "--tasks-max", "0"], "'0'"),
        cli(["slice", "--cpu-quota", "0%"], "'0%'"),
        cli(["doctor", "--gateway"], "'--gateway' needs a value"),
        cli(["doctor", "extra"], "'extra'"),
        cli(["doctor", "--slice", "../etc.slice"], "'../etc.slice'"),
    ]

    @Test(arguments: invocations)
    func malformedInvocation(_ input: BadInput) async throws {
        var arguments = input.arguments
        var token: String?
        // A server command gets a name of its own, so that anything it left would be found.
        if ["run", "check"].contains(arguments.first), !arguments.contains(where: { $0.hasPrefix("--name") }) {
            let marker = Self.token()
            arguments.insert(contentsOf: ["--name", "bad\(marker)"], at: 1)
            token = marker
        }
        try await Self.expectRejected(arguments, status: input.status, quoting: [input.quoted], token: token)
    }

    // MARK: - Limits and guardrail options

    /// Option, value: each is refused with the value quoted.
    static let limits: [(String, String)] = [
        ("--memory-max", "12Q"), ("--memory-max", "-1"), ("--memory-max", "1.5.5G"),
        ("--memory-max", "99999999999999999999T"), ("--memory-max", "16E"), ("--memory-max", "50%%"),
        ("--memory-max", "101%"), ("--memory-max", ""), ("--memory-max", " "), ("--memory-max", "\u{661}\u{662}M"),
        ("--memory-max", "\u{FF11}\u{FF12}M"), ("--memory-max", "1g"), ("--memory-max", "512MB"), ("--memory-max", "1e3"),
        ("--memory-max", "0x10M"), ("--memory-max", "+5M"), ("--memory-max", "Infinity"), ("--memory-max", "1.5%5"),
        ("--memory-high", "bogus"), ("--memory-high", "-5%"), ("--memory-high", "12.345%"),
        ("--memory-swap-max", "lots"), ("--memory-swap-max", "-0"),
        ("--tasks-max", "0"), ("--tasks-max", "-3"), ("--tasks-max", "1.5"), ("--tasks-max", "101%"),
        ("--tasks-max", "many"), ("--tasks-max", "0x10"), ("--tasks-max", "\u{663}"), ("--tasks-max", "18446744073709551616"),
        ("--cpu-quota", "0%"), ("--cpu-quota", "infinity"), ("--cpu-quota", "50"), ("--cpu-quota", "-10%"),
        ("--cpu-quota", "50.555%"), ("--cpu-quota", "%"), ("--cpu-quota", "99999999999%"),
        ("--runtime-max", "forever"), ("--runtime-max", "0"), ("--runtime-max", "-5s"), ("--runtime-max", "5 parsecs"),
        ("--runtime-max", "1h -30min"), ("--runtime-max", "s"), ("--runtime-max", "999999999999999w"),
        ("--runtime-max", "1.5.5s"),
        ("--oom-score-adj", "2000"), ("--oom-score-adj", "-1001"), ("--oom-score-adj", "x"), ("--oom-score-adj", ""),
        ("--oom-score-adj", "1.5"), ("--oom-score-adj", "infinity"),
        ("--min-uptime", "0"), ("--min-uptime", "x"), ("--min-uptime", "-1s"), ("--backoff-max", "never"),
        ("--breaker-threshold", "0"), ("--breaker-threshold", "1001"), ("--breaker-threshold", "-1"),
        ("--breaker-threshold", "infinity"), ("--breaker-open", "0"), ("--breaker-open", "later"),
        ("--max-instances", "-3"), ("--max-instances", "0"), ("--max-instances", "100001"), ("--max-instances", "many"),
        ("--warn-memory", "x"), ("--warn-memory", "150%"), ("--warn-memory", "infinity"), ("--warn-tasks", "1.5"),
        ("--warn-tasks", "lots"),
    ]

    @Test(arguments: limits)
    func invalidLimit(_ option: String, _ value: String) async throws {
        let token = Self.token()
        let arguments = ["run", "--name", "limit\(token)", option, value] + Self.server
        try await Self.expectRejected(arguments, status: 64, quoting: ["'\(value)'"], token: token)
    }

    /// `-p NAME=VALUE` assignments, and what the message must quote: the property and its value, or what is wrong.
    static let properties: [(String, [String])] = [
        ("Foo", ["'Foo'", "expected NAME=VALUE"]), ("=1", ["'=1'"]), ("MemoryMax=bogus", ["MemoryMax", "'bogus'"]),
        ("NoSuchThing=1", ["'NoSuchThing'", "supported:"]), (" MemoryMax=1G", ["' MemoryMax'"]),
        ("memorymax=1G", ["'memorymax'"]), ("CPUWeight=0", ["CPUWeight", "'0'"]), ("CPUWeight=10001", ["CPUWeight", "'10001'"]),
        ("CPUWeight=infinity", ["CPUWeight", "'infinity'"]), ("OOMPolicy=Kill", ["OOMPolicy", "'Kill'"]),
        ("Delegate=maybe", ["Delegate", "'maybe'"]), ("TasksMax=0", ["TasksMax", "'0'"]), ("IOWeight=x", ["IOWeight", "'x'"]),
        ("MemoryLow=-1", ["MemoryLow", "'-1'"]), ("RuntimeMaxSec=forever", ["RuntimeMaxSec", "'forever'"]),
        ("CPUQuota=0%", ["CPUQuota", "'0%'"]), ("Slice=x.slice", ["'Slice'"]), ("MemoryMax=", ["MemoryMax", "''"]),
    ]

    @Test(arguments: properties)
    func invalidProperty(_ assignment: String, _ quoted: [String]) async throws {
        let token = Self.token()
        let arguments = ["run", "--name", "property\(token)", "-p", assignment] + Self.server
        try await Self.expectRejected(arguments, status: 64, quoting: quoted, token: token)
    }

    // MARK: - Server names

    /// Names that are refused; `token` is appended (except to the empty name) so leftovers can be found.
    static let invalidNames: [(name: String, takesToken: Bool, quoted: String)] = [
        ("", false, "cannot be empty"),
        ("tab\there", true, "tab\\there"),
        ("new\nline", true, "new\\nline"),
        ("\u{1B}[31mred", true, "\\u{1B}[31mred"),
        ("del\u{7F}", true, "del\\u{7F}"),
        ("csi\u{9B}2J", true, "csi\\u{009B}2J"),
        ("nel\u{85}", true, "nel\\u{0085}"),
        (String(repeating: "x", count: 191), true, "201 characters once escaped"),
        (String(repeating: "x", count: 290), true, "300 characters once escaped"),
        (String(repeating: "\u{E9}", count: 25), true, "once escaped"),
        (String(repeating: "/", count: 191), true, "201 characters once escaped"),
    ]

    @Test(arguments: invalidNames.indices)
    func invalidName(_ index: Int) async throws {
        let (base, takesToken, quoted) = Self.invalidNames[index]
        let token = takesToken ? Self.token() : nil
        let name = base + (token ?? "")
        for command in [["run", "--name=" + name] + Self.server, ["reset", "--", name], ["stop", "--", name]] {
            try await Self.expectRejected(command, status: 64, quoting: ["invalid server name", quoted], token: token)
        }
    }

    /// Odd names that are valid: they run, in a scope named as systemd-escape names them.
    static let validNames = [
        "my server", "a/b", "/", "//", "x/", "..", ".", ".hidden", "-lead", "--", "-p", "\u{6642}\u{9593}",
        "\u{1F570}\u{FE0F}", "it's", "a\\b", "$(rm -rf /)", "a-b", " ", "100%", "name=value",
        String(repeating: "x", count: 200), String(repeating: "\u{E9}", count: 25),
    ]

    @Test(arguments: validNames)
    func unusualButValidName(_ name: String) async throws {
        let outcome = try Guest.corral(["run", "-v", "--name=" + name, "--", "true"], timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.isEmpty, "\(outcome)")
        let escaped = try Guest.run("/usr/bin/systemd-escape", ["--", name]).stdout
            .trimmingCharacters(in: .newlines)
        let unit = try #require(outcome.stderr.components(separatedBy: " started as ").last?
            .components(separatedBy: ",").first, "\(outcome)")
        #expect(unit.hasPrefix("corral-\(escaped)-") && unit.hasSuffix(".scope"), "\(unit) for \(escaped)")
        #expect(unit.utf8.count <= 255 && unit.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ":_.\\-".contains($0)) },
                "\(unit)")
        let id = unit.dropFirst("corral-\(escaped)-".count).dropLast(".scope".count)
        #expect(id.count == 8 && id.allSatisfy(\.isHexDigit), "\(unit)")
        #expect(ServerName.from(unit: unit)?.rawValue == name, "\(unit)")
        // The guardrail record is one file directly in the state directory, however many slashes the name has.
        let record = Self.stateDirectory + "/" + escaped + ".state"
        #expect(FileManager.default.fileExists(atPath: record), "\(record)")
        let reset = try Guest.corral(["reset", "--", name])
        #expect(reset.status == 0, "\(reset)")
        #expect(!FileManager.default.fileExists(atPath: record), "\(record)")
        try await Guest.expectNothingLeft(name: name)
    }

    // MARK: - Inputs that look wrong but are valid

    /// Accepted as documented: the server runs (and prints on stdout, which passes through).
    static let accepted: [[String]] = [
        ["--memory-max", "infinity"], ["--memory-max", " 512M "], ["--memory-max", "1.5G"], ["--memory-max", "25%"],
        ["--tasks-max", "infinity"], ["--runtime-max", "infinity"], ["--runtime-max", "1h 30min"],
        ["--min-uptime", "infinity"], ["--backoff-max", "infinity"], ["--breaker-open", "infinity"],
        ["-p", "Description="], ["-p", "MemoryHigh=infinity"], ["--memory-max", "1G", "--memory-max", "2G"],
        ["--oom-score-adj", "1000"], ["--oom-score-adj", "+500"], ["-E", "X=a=b"], ["--slice", "corral-bad\\x2dinput.slice"],
    ]

    @Test(arguments: accepted)
    func oddButValidOptions(_ options: [String]) async throws {
        let name = Guest.uniqueName("odd")
        let outcome = try Guest.corral(["run", "--name", name] + options + Self.server, timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "the server ran\n", "\(outcome)")
        #expect(outcome.stderr.isEmpty, "\(outcome)")
        _ = try Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func unknownSyscallNamesAreSkippedAsDockerDoesWithAWarning() async throws {
        let path = try Self.materialize(.text(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["no_such_call", "ptrace"], "action": "SCMP_ACT_ERRNO"}]}"#))
        defer { Self.remove(path) }
        let name = Guest.uniqueName("unknown-syscall")
        let outcome = try Guest.corral(["run", "--name", name, "--seccomp", path] + Self.server)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "the server ran\n", "\(outcome)")
        #expect(outcome.stderr.contains("refuses syscalls this libseccomp does not know, so they are not refused: no_such_call (a typo"), "\(outcome)")
        _ = try Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name)
    }

    // MARK: - Corrupt guardrail records

    /// A record's text, how `corral run` must end, and what it must say.
    static let records: [(text: String, status: Int32, said: String)] = [
        ("version=1\nconsecutive_failures=5\nstarts=1\nnext_start_at=1e300\nbreaker=closed\nbreaker_until=0\n", 75,
         "backing off until"),
        ("version=1\nconsecutive_failures=5\nstarts=1\nnext_start_at=0\nbreaker=open\nbreaker_until=1e300\nlast_exit=exited with status 1\nlast_exit_at=-1e300\n",
         75, "circuit breaker is open"),
        ("version=1\nconsecutive_failures=5\nstarts=1\nnext_start_at=inf\nbreaker=closed\nbreaker_until=0\n", 0,
         "unreadable and has been reset"),
        ("version=1\nconsecutive_failures=99999999999999999999\nstarts=1\nnext_start_at=0\nbreaker=closed\nbreaker_until=0\n", 0,
         "unreadable and has been reset"),
        ("version=1\nconsecutive_failures=0\nstarts=9223372036854775807\nnext_start_at=0\nbreaker=closed\nbreaker_until=0\n", 0,
         "unreadable and has been reset"),
        ("version=1\nconsecutive_failures=9223372036854775807\nstarts=1\nnext_start_at=0\nbreaker=closed\nbreaker_until=0\n", 0,
         "unreadable and has been reset"),
        ("\u{0}\u{FF}garbage", 0, "unreadable and has been reset"),
        ("version=1\n" + String(repeating: "stderr=" + String(repeating: "x", count: 1000) + "\n", count: 100), 0,
         "unreadable and has been reset"),
    ]

    @Test(arguments: records.indices)
    func corruptGuardrailRecord(_ index: Int) async throws {
        let (text, status, said) = Self.records[index]
        let name = "record\(Self.token())"
        try FileManager.default.createDirectory(atPath: Self.stateDirectory, withIntermediateDirectories: true)
        try text.write(toFile: Self.stateDirectory + "/\(name).state", atomically: true, encoding: .utf8)
        let outcome = try Guest.corral(["run", "--name", name] + Self.server)
        #expect(outcome.status == status, "\(outcome)")
        #expect(outcome.status < 128 && !outcome.stderr.contains("Fatal error"), "a crash: \(outcome)")
        #expect(outcome.stderr.contains(said), "\(outcome)")
        for listing in [["ps", "--all"], ["ps", "--all", "--json"]] {
            let ps = try Guest.corral(listing)
            #expect(ps.status == 0 && !ps.stderr.contains("Fatal error"), "\(listing): \(ps)")
            if listing.contains("--json") {
                #expect((try? JSONSerialization.jsonObject(with: Data(ps.stdout.utf8))) != nil, "valid JSON: \(ps.stdout)")
            }
        }
        _ = try Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name)
    }
}
