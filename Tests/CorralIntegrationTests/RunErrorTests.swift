import Foundation
import Testing

/// Exit codes follow shell conventions; stdio is the server's; every error leaves nothing behind.
@Suite(.guestOnly)
struct RunErrorTests {
    @Test(arguments: [
        (["sh", "-c", "exit 3"], Int32(3)),
        (["sh", "-c", "kill -9 $$"], Int32(137)),
        (["sh", "-c", "kill -TERM $$"], Int32(143)),
        (["true"], Int32(0)),
    ])
    func exitStatusIsTheServers(command: [String], expected: Int32) async throws {
        let name = Guest.uniqueName("status")
        let outcome = try Guest.corral(["run", "--name", name, "--"] + command)
        #expect(outcome.status == expected, "\(outcome)")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func stdoutAndStdinBelongToTheServer() throws {
        let echo = try Guest.corral(["run", "--", "printf", "exactly this"])
        #expect(echo.stdout == "exactly this")
        #expect(echo.stderr.isEmpty, "corral must be silent on success: \(echo.stderr)")
        let cat = try Guest.corral(["run", "--", "cat"], stdin: "line one\nline two\n")
        #expect(cat.status == 0, "stdin EOF must reach the server: \(cat)")
        #expect(cat.stdout == "line one\nline two\n")
    }

    @Test func errorsGiveTheirCodesAndLeaveNothing() async throws {
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("corral-plain-\(getpid())")
        try "#!/bin/sh\necho hi\n".write(to: plain, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: plain) }
        let cases: [([String], Int32, String)] = [
            (["--", "no-such-command-anywhere"], 127, "command not found"),
            (["--", "/no/such/path"], 127, "No such file"),
            (["--", plain.path], 126, "Permission denied"),
            (["--", "/tmp"], 126, "directory"),
            (["--memory-max", "12X", "--", "true"], 64, "'12X'"),
            (["--tasks-max", "-1", "--", "true"], 64, "'-1'"),
            (["--cpu-quota", "fast", "--", "true"], 64, "'fast'"),
            (["--bogus", "--", "true"], 64, "'--bogus'"),
            (["-p", "NoSuchThing=1", "--", "true"], 64, "NoSuchThing"),
            (["--seccomp", "/no/profile.json", "--", "true"], 64, "/no/profile.json"),
            (["--slice", "not a slice", "--", "true"], 64, "'not a slice'"),
            ([], 64, "no command"),
        ]
        for (arguments, status, text) in cases {
            let name = Guest.uniqueName("error")
            let outcome = try Guest.corral(["run", "--name", name] + arguments)
            #expect(outcome.status == status, "\(arguments): \(outcome)")
            #expect(outcome.stderr.contains(text), "\(arguments): \(outcome)")
            #expect(outcome.stdout.isEmpty)
            try await Guest.expectNothingLeft(name: name)
        }
    }
}
