import Corral
import Foundation
import Testing

/// Hostile conditions: a neighbour eating all its memory, the manager reloading and the bus daemon restarting in the
/// middle of starts, a server that closes stdout but keeps running, one that ignores SIGTERM, and 200 servers at once.
// One at a time: 200 servers, daemon-reloads and a bus daemon restart at once kept systemd (under TCG) from
// answering for more than D-Bus's 25 s, and every other test's calls timed out with it.
@Suite(.guestOnly, .serialized)
struct HostileTests {
    /// A server as a gateway starts it through the library: its stdio are pipes, no guardrails.
    private static func gatewayServer(_ name: String, _ executable: String, _ arguments: [String] = [],
                                      configure: (inout ServerConfiguration) throws -> Void = { _ in }) rethrows -> ServerConfiguration {
        try ServerConfiguration(executable: executable, arguments: arguments) {
            $0.name = name
            $0.standardInput = .pipe
            $0.standardOutput = .pipe
            $0.standardError = .null
            $0.guardrails = nil
            try configure(&$0)
        }
    }

    @Test func aMemoryHogNextToAHealthyServerLeavesItAnswering() async throws {
        let healthyName = Guest.uniqueName("healthy")
        let hogName = Guest.uniqueName("hog")
        let serverPath = Guest.checkout.appendingPathComponent(".venv/bin/mcp-server-time").path
        let healthy = try await ServerProcess.spawn(Self.gatewayServer(healthyName, serverPath))
        let client = try MCPClient(healthy)
        #expect(try await client.initialize().name == "mcp-time")
        try await client.notify("notifications/initialized")

        let hog = try await ServerProcess.spawn(Self.gatewayServer(hogName, "python3", [
            "-c", "import time\nb = []\nwhile True:\n    b.append(bytearray(4 << 20))\n    time.sleep(0.01)",
        ]) { $0.limits.memoryMax = try Limits.Memory("96M") })
        // The healthy server keeps answering real tool calls for as long as its neighbour grows and dies.
        var answers = 0
        while hog.termination == nil || answers < 3 {
            let result = try await client.request("tools/call", params: .object([
                .init("name", .string("get_current_time")),
                .init("arguments", .object([.init("timezone", .string("UTC"))])),
            ]))
            #expect(result["isError"]?.boolValue != true, "\(result)")
            answers += 1
        }
        let hogEnd = await hog.wait()
        #expect(hogEnd.reason == .oomKilled, "\(hogEnd)")
        #expect(healthy.termination == nil, "the healthy server must not be touched")
        #expect(try await client.listTools().contains("get_current_time"))
        await healthy.closeStandardInput()
        _ = await healthy.stop()
        try await Guest.expectNothingLeft(name: healthyName)
        try await Guest.expectNothingLeft(name: hogName)
    }

    @Test func aServerThatClosesStdoutButRunsOnIsWaitedFor() async throws {
        let name = Guest.uniqueName("stdoutclosed")
        let release = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).release").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Guest.corral)
        process.arguments = ["run", "--name", name, "--", "sh", "-c",
                             "echo hello; exec 1>&-; while [ ! -e \(release) ]; do sleep 0.1; done; exit 5"]
        let output = Guest.closeOnExec(Pipe())
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // stdout ends (the server closed it; corral let go of its own copy) while the server and corral run on.
        nonisolated(unsafe) var printed = Data()
        let ended = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            printed = output.fileHandleForReading.readDataToEndOfFile()
            ended.signal()
        }
        let sawEnd = ended.wait(timeout: .now() + 60) == .success
        #expect(sawEnd, "the server closed its stdout, but its reader saw no end of it")
        #expect(process.isRunning, "corral must wait for the server, not for its stdout")
        #expect(try await Guest.scopes(of: name).count == 1)
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        process.waitUntilExit()
        if !sawEnd { ended.wait() }
        #expect(String(decoding: printed, as: UTF8.self) == "hello\n")
        try? FileManager.default.removeItem(atPath: release)
        #expect(process.terminationStatus == 5)
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func stopKillsAServerThatIgnoresSigtermAfterTheGrace() async throws {
        let name = Guest.uniqueName("deaf")
        let marker = "86412"
        let corral = try Guest.start(["run", "--name", name, "--", "sh", "-c",
                                      "trap '' TERM; sleep \(marker) & wait; sleep \(marker)"])
        #expect(await Guest.eventually(30) { !Guest.processes(containing: "sleep \(marker)").isEmpty })
        let stop = try Guest.corral(["stop", "--grace", "1s", name])
        #expect(stop.status == 0, "\(stop)")
        // Bounded: a server that never came up, or a stop that failed, must fail the test, not hang it.
        let ended = await Guest.eventually(60) { !corral.isRunning }
        #expect(ended, "corral run did not end after corral stop")
        if !ended { kill(corral.processIdentifier, SIGKILL); Guest.killProcesses(containing: "sleep \(marker)") }
        corral.waitUntilExit()
        #expect(corral.terminationReason == .exit, "corral itself ends normally, reporting the server's end")
        #expect(corral.terminationStatus == 128 + SIGKILL, "the server survived SIGTERM and was killed: \(corral.terminationStatus)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep \(marker)")
    }

    /// Starts `count` servers with `corral run` at once while `disturb` runs, then checks that each of them runs in
    /// its own scope, stops them all and checks that nothing is left.
    private func startServers(_ base: String, count: Int, while disturb: () throws -> Void) async throws {
        let names = (0..<count).map { "\(base)-\($0)" }
        let marker = PsStopGcTests.marker()  // its own: two of these tests run at once
        let monitors = try names.map { try Guest.start(["run", "--name", $0, "--", "sleep", marker]) }
        try disturb()
        for (name, monitor) in zip(names, monitors) {
            let running = try await Guest.eventually(60) { try await Guest.scopes(of: name).contains { $0.activeState == "active" } }
            #expect(running, "server \(name) did not come up: monitor \(monitor.isRunning ? "running" : "exited \(monitor.terminationStatus)")")
        }
        let stop = try Guest.corral(["stop", "--grace", "1s"] + names)
        #expect(stop.status == 0, "\(stop)")
        for monitor in monitors { monitor.waitUntilExit() }
        for name in names { try await Guest.expectNothingLeft(name: name) }
        #expect(Guest.processes(containing: "sleep \(marker)").isEmpty)
    }

    private func systemctl(_ arguments: [String]) throws {
        let outcome = try Guest.run("/bin/systemctl", (Guest.isRoot ? [] : ["--user"]) + arguments)
        #expect(outcome.status == 0, "systemctl \(arguments): \(outcome)")
    }

    @Test func daemonReloadsDuringStartsLoseNothing() async throws {
        try await startServers(Guest.uniqueName("reload"), count: 8) {
            for _ in 0..<3 { try systemctl(["daemon-reload"]) }
        }
    }

    @Test(.enabled(if: Guest.isRoot, "the system bus daemon can only be restarted by root"))
    func aBusDaemonRestartDuringStartsLosesNothing() async throws {
        try await startServers(Guest.uniqueName("dbus"), count: 8) {
            try systemctl(["restart", "dbus.service"])
        }
        // Whatever still talks to the restarted daemon works too.
        let ps = try Guest.corral(["ps", "--json"])
        #expect(ps.status == 0, "\(ps)")
    }

    /// One gateway process (corral-test-helper's crowd mode, so that this test process does not hold the ~1400
    /// descriptors) starts 200 servers at once; `corral ps` lists them all, and a stop of each ends it as stopped.
    @Test func twoHundredServersAtOnceThroughOneGateway() async throws {
        let base = Guest.uniqueName("crowd")
        let count = 200
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(base).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/output", go = directory + "/go"
        FileManager.default.createFile(atPath: output, contents: nil)
        let gateway = Process()
        gateway.executableURL = URL(fileURLWithPath: CoreStressTests.helper)
        gateway.arguments = ["crowd", base, String(count), go]
        gateway.standardInput = FileHandle.nullDevice
        gateway.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        try gateway.run()
        defer { if gateway.isRunning { kill(gateway.processIdentifier, SIGKILL) } }
        let said = { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        let up = await Guest.eventually(600) { !gateway.isRunning || said().contains("up\n") }
        #expect(up && gateway.isRunning, "the gateway did not start its servers: \(said())")
        #expect(said().contains("started=\(count) units=\(count)\n"), "one scope each: \(said())")
        let listed = try Guest.corral(["ps", "--json"])
        #expect(listed.status == 0, "\(listed)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(rows.filter { ($0["name"] as? String)?.hasPrefix(base + "-") == true }.count == count)
        FileManager.default.createFile(atPath: go, contents: nil)
        let ended = await Guest.eventually(300) { !gateway.isRunning }
        #expect(ended, "the gateway did not stop its servers")
        #expect(ended && gateway.terminationStatus == 0 && said().contains("stopped=\(count)\nother=\n"), "\(said())")
        let pattern = String(try ServerName(base).unitPrefix.dropLast()) + "*"
        let gone = try await Guest.eventually(60) { try await SystemdBus.shared().listUnits(matching: [pattern]).isEmpty }
        #expect(gone, "scopes of the crowd are left")
        #expect(Guest.processes(containing: "sleep 86414").isEmpty)
    }
}
