import Corral
import Foundation
import Testing

/// Issue 13, the lifecycle races of `ServerProcess` that CoreStressTests does not cover: the min-uptime check of
/// item 5 and the stop timer's kill of item 6.
@Suite(.guestOnly)
struct LifecycleRaceTests {
    /// A quiet server through the library, guardrails off.
    static func sleeper(_ name: String) -> ServerConfiguration {
        ServerConfiguration(executable: "sleep", arguments: ["86421"]) {
            $0.name = name
            $0.standardInput = .null
            $0.standardOutput = .null
            $0.standardError = .null
            $0.guardrails = nil
        }
    }

    /// The server exits at once, but its end is still being processed when --min-uptime passes: corral's stderr
    /// relay is held up by a gateway that does not read corral's stderr yet (busy elsewhere). The exit came first,
    /// so it is a fast failure, never a healthy run. Through `corral run`, whose process does nothing else.
    @Test("13.5: an exit before --min-uptime whose end is processed after it is not recorded as healthy")
    func anExitBeforeMinUptimeProcessedLateIsNotHealthy() async throws {
        let name = Guest.uniqueName("minuptime")
        let minimumUptime = 45.0  // long enough that a guest running the whole suite starts and ends the server within it
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Guest.corral)
        process.arguments = ["run", "--name", name, "--min-uptime", "\(Int(minimumUptime))s", "--",
                             "sh", "-c", "head -c 100000 /dev/zero >&2; exit 3"]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The server's processes are gone well before the minimum uptime; corral is still relaying its stderr.
        let marker = "head -c 100000"
        let exited = await Guest.eventually(30) { Guest.processes(containing: marker).isEmpty && ContinuousClock.now - started > .milliseconds(500) }
        #expect(exited && ContinuousClock.now - started < .seconds(minimumUptime), "the server did not exit at once")
        // Lets the minimum uptime pass while the relay is held up, then reads.
        try await Task.sleep(until: started + .seconds(minimumUptime + 2))
        let relayed = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 3 && relayed.count >= 100000, "status \(process.terminationStatus), \(relayed.count) bytes")
        let state = try await ServerInstance.list().first { $0.name.rawValue == name }?.guardrails
        #expect(state?.consecutiveFailures == 1, "the exit is a fast failure: \(String(describing: state))")
        #expect(state?.proven == false, "a server that never stayed up for --min-uptime was recorded healthy")
        _ = try? Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name)
    }

    /// Starts `corral run OPTIONS --name NAME -- sh -c 'sleep MARKER; exit 1'`, SIGSTOPs the monitor while its
    /// server runs and returns once the server has exited unseen: the monitor, still stopped, and when it was stopped.
    static func freezeMonitor(_ options: [String], name: String, marker: String) async throws -> (Process, ContinuousClock.Instant) {
        let corral = try Guest.start(["run"] + options + ["--name", name, "--", "sh", "-c", "sleep \(marker); exit 1"])
        #expect(await Guest.eventually(60) { !Guest.processes(containing: "sleep \(marker)").isEmpty }, "the server did not start")
        kill(corral.processIdentifier, SIGSTOP)
        let stopped = ContinuousClock.now
        #expect(!Guest.processes(containing: "sleep \(marker)").isEmpty, "the monitor was stopped too late to test anything")
        #expect(await Guest.eventually(30) { Guest.processes(containing: "sleep \(marker)").isEmpty }, "the server did not end")
        return (corral, stopped)
    }

    /// The monitor is not scheduled (here: stopped) from just before its server's exit until after --min-uptime:
    /// when it looks again, both the exit and the minimum uptime are due. The run was shorter than the minimum, so
    /// it is a fast failure, never a healthy run (on a loaded host this is what made a crash loop look healthy).
    @Test("13.5: an exit the monitor sees only after --min-uptime is still a fast failure")
    func anExitSeenLateIsStillAFastFailure() async throws {
        let name = Guest.uniqueName("seenlate")
        let marker = "8.\(UInt32.random(in: 10_000_000...99_999_999))"
        let (corral, stopped) = try await Self.freezeMonitor(["--min-uptime", "20s"], name: name, marker: marker)
        defer { kill(corral.processIdentifier, SIGCONT); if corral.isRunning { corral.terminate() } }
        try await Task.sleep(until: stopped + .seconds(22))
        kill(corral.processIdentifier, SIGCONT)
        corral.waitUntilExit()
        #expect(corral.terminationStatus == 1, "corral run reports the server's own status: \(corral.terminationStatus)")
        let state = try await ServerInstance.list().first { $0.name.rawValue == name }?.guardrails
        #expect(state?.consecutiveFailures == 1 && state?.proven == false,
                "a run of about eight seconds was recorded as healthy: \(String(describing: state))")
        _ = try? Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name)
    }

    /// The probe of a failing server has exited, but its monitor has not recorded how by the time the probation
    /// (3 s) is over: a start then must wait for that outcome (and, when it does not come, be refused), not go ahead (on a busy host every waiting agent
    /// went ahead at once, and the incident replay saw 15 spawns where the policy allows 12).
    @Test("13.5: a start after the probation of a probe whose outcome is not recorded yet does not spawn")
    func aProbeWhoseOutcomeIsLateStillHoldsOthersBack() async throws {
        let name = Guest.uniqueName("lateprobe")
        let marker = "8.\(UInt32.random(in: 10_000_000...99_999_999))"
        let ran = FileManager.default.temporaryDirectory.appendingPathComponent(name + ".ran").path
        defer { unlink(ran) }
        let (probe, _) = try await Self.freezeMonitor([], name: name, marker: marker)
        defer { kill(probe.processIdentifier, SIGCONT); if probe.isRunning { probe.terminate() } }
        try await Task.sleep(for: .seconds(4))
        // The probe's monitor stays stopped until the second start has decided: with the outcome pending all that
        // time, it may only wait out its patience and be refused (letting the probe go on first would make the
        // test depend on how fast the second corral reaches its decision).
        let second = try Guest.start(["run", "--name", name, "--", "sh", "-c", "touch \(ran); exit 1"])
        let decided = await Guest.eventually(120) { !second.isRunning }
        if !decided { second.terminate() }
        second.waitUntilExit()
        kill(probe.processIdentifier, SIGCONT)
        probe.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: ran), "a second start ran while the probe's outcome was pending")
        #expect(decided && second.terminationStatus == 75, "refused while the probe's outcome was pending: \(second.terminationStatus)")
        _ = try? Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name)
    }

    /// systemd removes a scope as soon as it is empty, before its monitor has recorded the outcome: `corral gc`
    /// meanwhile must leave that record alone (taking it made the waiting starts of the incident replay go ahead).
    @Test("13.5: corral gc leaves the record of a live monitor whose scope is already gone")
    func gcLeavesTheRecordOfALiveMonitor() async throws {
        let name = Guest.uniqueName("gclive")
        let marker = "8.\(UInt32.random(in: 10_000_000...99_999_999))"
        let (corral, _) = try await Self.freezeMonitor([], name: name, marker: marker)
        defer { kill(corral.processIdentifier, SIGCONT); if corral.isRunning { corral.terminate() } }
        let scopeGone = try await Guest.eventually(60) { try await Guest.scopes(of: name).allSatisfy { $0.activeState != "active" } }
        #expect(scopeGone, "systemd did not remove the empty scope")
        let gc = try Guest.corral(["gc"])
        #expect(!gc.stdout.contains("server '\(name)'"), "gc took the record of a live monitor: \(gc.stdout)")
        kill(corral.processIdentifier, SIGCONT)
        corral.waitUntilExit()
        let state = try await ServerInstance.list().first { $0.name.rawValue == name }?.guardrails
        #expect(state?.consecutiveFailures == 1, "the outcome is recorded: \(String(describing: state))")
        _ = try? Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name)
    }

    /// Servers stopped with a grace that runs out around the time their end is processed, while other servers of
    /// the same process start all the time (reusing descriptor numbers): the stop timer's kill must reach nothing
    /// but its own server. Every bystander must still run at the end.
    @Test("13.6: stop()'s kill after the grace never reaches another server's cgroup")
    func stopTimerNeverKillsAnotherServer() async throws {
        let base = Guest.uniqueName("stoprace")
        let rounds = 60
        let bystanders: [ServerProcess] = try await withThrowingTaskGroup(of: [ServerProcess].self) { group in
            group.addTask {
                for round in 0..<rounds {
                    let server = try await ServerProcess.spawn(Self.sleeper(base + "-stopped"))
                    _ = await server.stop(grace: .microseconds(250 * (round % 40)))
                }
                return []
            }
            group.addTask {
                var started: [ServerProcess] = []
                for _ in 0..<rounds { started.append(try await ServerProcess.spawn(Self.sleeper(base + "-bystander"))) }
                return started
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let killed = bystanders.filter { $0.termination != nil }
        #expect(killed.isEmpty, "\(killed.count) of \(bystanders.count) bystanders were killed: \(killed.first?.termination.map(String.init(describing:)) ?? "")")
        for bystander in bystanders { _ = await bystander.stop(grace: .seconds(1)) }
        try await Guest.expectNothingLeft(name: base + "-stopped", marker: "sleep 86421")
        try await Guest.expectNothingLeft(name: base + "-bystander")
    }

    /// A monitor SIGKILLed: its server dies with it (parent-death signal) and systemd removes the empty scope, but
    /// the leaf slice that held it stays until `corral gc` stops it.
    @Test("13.1: the leaf slice of a SIGKILLed monitor is collected by corral gc")
    func theLeafSliceOfAKilledMonitorIsCollectedByGc() async throws {
        let name = Guest.uniqueName("leafgc")
        let marker = String(UInt32.random(in: 10_000_000...99_999_999))
        let corral = try Guest.start(["run", "--name", name, "--", "sleep", marker])
        let up = await Guest.eventually(30) { !Guest.processes(containing: "sleep \(marker)").isEmpty }
        #expect(up, "the server did not start")
        let slices = try await Guest.leafSlices(of: name)
        #expect(slices.count == 1, "one leaf slice per scope: \(slices)")
        kill(corral.processIdentifier, SIGKILL)
        corral.waitUntilExit()
        let scopeGone = try await Guest.eventually(30) { try await Guest.scopes(of: name).isEmpty }
        #expect(scopeGone, "the scope outlived its server")
        #expect(try await Guest.leafSlices(of: name) == slices, "the leaf slice stays until someone stops it")
        let gc = try Guest.corral(["gc"])
        #expect(gc.status == 0 && slices.allSatisfy { gc.stdout.contains("cleaned \($0)") }, "\(gc)")
        _ = try? Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name, marker: "sleep \(marker)")
    }

    /// Descriptor numbers are reused as soon as they are closed. A second `closeStandardInput()`, or a write after
    /// the first, must not reach whatever the embedding process opened since under the same number (here a file
    /// that takes the number the server's stdin had).
    @Test("13.6: a second closeStandardInput or a late write never touches a descriptor reused since")
    func closingStdinTwiceNeverClosesAReusedDescriptor() async throws {
        let name = Guest.uniqueName("stdinreuse")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        defer { unlink(file) }
        var checked = 0
        for _ in 0..<20 where checked < 3 {
            let server = try await ServerProcess.spawn(ServerConfiguration(executable: "sleep", arguments: ["86422"]) {
                $0.name = name
                $0.standardInput = .pipe
                $0.standardOutput = .null
                $0.standardError = .null
                $0.guardrails = nil
            })
            let number = try #require(server.standardInput)
            let opened = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            await server.closeStandardInput()
            // The lowest free number from the stdin's up: a plain open() would take any lower number that another
            // test freed meanwhile. Another test may still take this one first: only a reuse of it tells.
            let reused = fcntl(opened, F_DUPFD_CLOEXEC, number)
            close(opened)
            defer { close(reused) }
            if reused == number {
                checked += 1
                await server.closeStandardInput()
                let wrote = await (try? server.writeStandardInput(Array("stray".utf8))) != nil
                #expect(!wrote, "a write after closeStandardInput() must fail")
                #expect(fcntl(reused, F_GETFD) >= 0, "a second closeStandardInput() closed a descriptor reused since")
                var size = stat()
                #expect(fstat(reused, &size) == 0 && size.st_size == 0, "a late write reached the reused descriptor")
            }
            _ = await server.stop(grace: .seconds(1))
        }
        #expect(checked > 0, "the stdin number was never reused: nothing was checked")
        try await Guest.expectNothingLeft(name: name, marker: "sleep 86422")
    }
}
