import Corral
import Foundation
import Testing

/// Issue 13.6 and 13.7: PID and descriptor reuse, and the child's stdio.
extension CoreStressTests {
    // MARK: 6. PID reuse

    /// The instance record of a running `--exec` server is made to name an unrelated process as its monitor, as a
    /// recycled PID would: `corral stop` must not signal that process, and must still stop the server.
    @Test("13.6: corral stop never signals an unrelated process that has the recorded monitor PID")
    func stopDoesNotSignalARecycledMonitorPID() async throws {
        let name = Guest.uniqueName("pidreuse")
        let marker = Self.marker()
        defer { Guest.killProcesses(containing: marker) }
        let server = try Guest.start(["run", "--exec", "--name", name, "--", "sleep", marker])
        let running = try await Guest.eventually(30) { try await Guest.scopes(of: name).contains { $0.activeState == "active" } }
        #expect(running, "the --exec server did not start")
        let unit = try await Guest.scopes(of: name).first?.name
        let recordPath = Self.stateDirectory + "/instances/" + (unit ?? "none")
        // The scope is active a moment before corral records it (the record names the unit systemd created).
        _ = await Guest.eventually(30) { FileManager.default.fileExists(atPath: recordPath) }
        let record = try #require(try? String(contentsOfFile: recordPath, encoding: .utf8), "no instance record for \(unit ?? "?")")
        // The bystander: a plain sleep of ours that only corral stop could signal. Never waited for (a zombie or a
        // vanished PID both mean it was killed).
        let launched = Process()
        // With default dispositions, as any process a recycled PID may belong to (the test runner ignores some
        // signals, and ignored signals survive exec).
        // Foundation spawns with the spawning thread's signal mask, and Swift's pool threads block every signal: without
        // an empty mask the sleep would ignore the very SIGTERM this test is about.
        launched.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        launched.arguments = ["-c", "import os, signal; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
            + "os.execv('/usr/bin/env', ['env', '--default-signal', 'sleep', '\(marker)2'])"]
        launched.standardInput = FileHandle.nullDevice
        launched.standardOutput = FileHandle.nullDevice
        launched.standardError = FileHandle.nullDevice
        try launched.run()
        let bystander = launched.processIdentifier
        defer { kill(bystander, SIGKILL) }
        #expect(await Guest.eventually(60) { !Guest.processes(containing: "sleep \(marker)2").isEmpty })
        let forged = record.split(separator: "\n").map { $0.hasPrefix("monitor=") ? "monitor=\(bystander)" : String($0) }
        try (forged.joined(separator: "\n") + "\n").write(toFile: recordPath, atomically: true, encoding: .utf8)

        let stop = try Guest.corral(["stop", "--grace", "1s", name], timeout: 60)
        #expect(stop.status == 0, "\(stop)")
        let stopped = await Guest.eventually(30) { !server.isRunning }
        #expect(stopped, "corral stop did not stop the server")
        if !stopped { kill(server.processIdentifier, SIGKILL) }
        let alive = kill(bystander, 0) == 0
            && (try? String(contentsOfFile: "/proc/\(bystander)/stat", encoding: .utf8))?.contains(") Z ") == false
        #expect(alive, "corral stop killed PID \(bystander), which is not the server's monitor: \(stop.stderr)")
        await Self.cleanUp(name)
        try await Guest.expectNothingLeft(name: name, marker: "sleep \(marker) ")
    }

    // MARK: 7. stdio edge cases in the child

    /// corral started with fd 0 closed (not /dev/null): the server still gets a stdin, and not one of corral's own
    /// descriptors.
    @Test("13.7: a server of a corral started with fd 0 closed still has a stdin")
    func aServerOfACorralWithoutFd0StillHasAStdin() async throws {
        let name = Guest.uniqueName("nofd0")
        let outcome = try Guest.run("/bin/sh", ["-c", "exec 0<&-; exec \"$0\" run --name \(name) -- sh -c 'readlink /proc/$$/fd/0 || echo closed'", Guest.corral])
        #expect(outcome.status == 0, "\(outcome)")
        let target = outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(target != "closed" && !target.isEmpty, "the server started without stdin: \(outcome)")
        #expect(!target.hasPrefix("socket:") && !target.hasPrefix("anon_inode:") && !target.contains("corral"),
                "the server's stdin is one of corral's own descriptors: \(target)")
        await Self.cleanUp(name)
        try await Guest.expectNothingLeft(name: name)
    }

    /// A gateway whose stdin source already sits on fd 0 (close-on-exec, as pipe2(O_CLOEXEC) leaves it) passes
    /// `.fileDescriptor(0)`: the server must read it (spawn.c skips the dup2 and keeps the flag).
    @Test("13.7: a stdio source already on its target fd reaches the server despite close-on-exec")
    func aSourceAlreadyOnItsTargetFdReachesTheServer() async throws {
        let name = Guest.uniqueName("fd0cloexec")
        let outcome = try Self.helper(["fd0-cloexec", name])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("output=hello-through-fd0"), "the server did not get fd 0: \(outcome)")
        await Self.cleanUp(name)
        try await Guest.expectNothingLeft(name: name)
    }

    /// A gateway with fds 0 and 1 closed: the gate socketpair lands on them, the fallback close loop runs and stops
    /// at 65536. An fd above that must not reach the server.
    @Test("13.7: an fd above 65536 does not leak into a server when the gate lands on fd 0-2")
    func highFdsDoNotLeakWhenTheGateLandsOnALowFd() async throws {
        let name = Guest.uniqueName("gatelow")
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).fds").path
        defer { try? FileManager.default.removeItem(atPath: list) }
        let outcome = try Self.helper(["gate-low-fd", name, list])
        #expect(outcome.status == 0, "\(outcome)")
        let fds = (try? String(contentsOfFile: list, encoding: .utf8))?.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(fds != nil, "the server wrote no fd list: \(outcome)")
        #expect(fds?.contains(70001) == false, "fd 70001 leaked into the server: its fds \(fds ?? [])")
        #expect((fds ?? []).allSatisfy { $0 <= 2 }, "only stdio may reach the server: \(fds ?? [])")
        await Self.cleanUp(name)
        try await Guest.expectNothingLeft(name: name)
    }

    /// The same through corral run, whose gate never lands below 3: a control (passes at 52758bb).
    @Test("13.7: an fd above 65536 does not leak into a server of corral run")
    func highFdsDoNotLeakIntoAServerOfCorralRun() async throws {
        let name = Guest.uniqueName("highfd")
        let script = "ulimit -n 70010 || exit 99; exec 70001</dev/null; exec \"$0\" run --name \(name) -- sh -c 'ls /proc/$$/fd'"
        let outcome = try Guest.run("/bin/bash", ["-c", script, Guest.corral])
        #expect(outcome.status == 0, "\(outcome)")
        let fds = outcome.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(!fds.isEmpty && fds.allSatisfy { $0 <= 2 }, "only stdio may reach the server: \(outcome)")
        await Self.cleanUp(name)
        try await Guest.expectNothingLeft(name: name)
    }
}
