import Corral
import Foundation
import Testing

/// `corral ps`, `corral stop` and `corral gc` against real scopes. Serialized: gc cleans whatever is stale, and
/// the benchmark fills the listing.
@Suite(.guestOnly, .serialized)
struct PsStopGcTests {
    /// A number no other test's sleep uses, as a process marker.
    static func marker() -> String { String(UInt32.random(in: 100_000_000...999_999_999)) }

    /// Waits for the server's sleep and its scope; returns the sleep's PID.
    static func waitForServer(_ name: String, marker: String, count: Int = 1) async throws -> [Int32] {
        let up = try await Guest.eventually(30) {
            guard Guest.processes(containing: "sleep \(marker)").count == count else { return false }
            return try await Guest.scopes(of: name).filter { $0.activeState == "active" }.count == count
        }
        #expect(up, "server '\(name)' did not come up")
        return Guest.processes(containing: "sleep \(marker)")
    }

    /// `corral ps --json`, parsed.
    static func psJSON(_ extra: [String] = []) throws -> [[String: Any]] {
        let outcome = try Guest.corral(["ps", "--json"] + extra)
        #expect(outcome.status == 0, "\(outcome)")
        let parsed = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))
        return try #require(parsed as? [[String: Any]], "\(outcome.stdout)")
    }

    /// The table's rows for `name`, split in columns.
    static func rows(_ table: String, of name: String) -> [[Substring]] {
        table.split(separator: "\n").map { $0.split(separator: " ") }.filter { $0.first.map(String.init) == name }
    }

    @Test func psListsARunningServerAndStopStopsIt() async throws {
        let name = Guest.uniqueName("ps")
        let marker = Self.marker()
        let corral = try Guest.start(["run", "--name", name, "--memory-max", "256M", "--tasks-max", "32", "--",
                                      "sleep", marker])
        let pid = try #require(try await Self.waitForServer(name, marker: marker).first)
        let unit = try #require(try await Guest.scopes(of: name).first?.name)

        let table = try Guest.corral(["ps"])
        #expect(table.status == 0, "\(table)")
        #expect(table.stdout.hasPrefix("NAME"), "\(table)")
        let row = try #require(Self.rows(table.stdout, of: name).first, "\(table)")
        // NAME UNIT PID STATE UPTIME(1-2 words) MEM TASKS OOM RESTARTS BREAKER
        #expect(row[1] == unit, "\(row)")
        #expect(row[2] == "\(pid)", "\(row)")
        #expect(row[3] == "running", "\(row)")
        #expect(row.contains { $0.hasSuffix("/256M") }, "memory current/peak/max: \(row)")
        #expect(row.contains("1/32"), "tasks current/max: \(row)")
        #expect(row.last == "closed", "\(row)")

        let objects = try Self.psJSON()
        let object = try #require(objects.first { $0["unit"] as? String == unit }, "\(objects)")
        #expect(object["name"] as? String == name)
        #expect(object["mainPID"] as? Int == Int(pid))
        #expect(object["monitorPID"] as? Int == Int(corral.processIdentifier))
        #expect(object["stale"] as? Bool == false)
        #expect(object["memoryMaxBytes"] as? Int == 256 << 20)
        #expect((object["memoryCurrentBytes"] as? Int ?? 0) > 0, "\(object)")
        #expect(object["tasksCurrent"] as? Int == 1)
        #expect(object["tasksMax"] as? Int == 32)
        #expect(object["oomKills"] as? Int == 0)
        #expect(object["breaker"] as? String == "closed")

        let stop = try Guest.corral(["stop", name])
        #expect(stop.status == 0, "\(stop)")
        #expect(stop.stderr.contains("stopped \(unit) (server '\(name)', PID \(pid))"), "\(stop)")
        #expect(await Guest.eventually { !corral.isRunning }, "the corral monitor should exit with its server")
        try await Guest.expectNothingLeft(name: name, marker: "sleep \(marker)")
        #expect(!(try Guest.corral(["ps"]).stdout.contains(unit)))
    }

    @Test func stopByUnitStopsOnlyThatInstance() async throws {
        let name = Guest.uniqueName("psunit")
        let marker = Self.marker()
        let first = try Guest.start(["run", "--exec", "--name", name, "--", "sleep", marker])
        let second = try Guest.start(["run", "--exec", "--name", name, "--", "sleep", marker])
        _ = try await Self.waitForServer(name, marker: marker, count: 2)
        let units = try await Guest.scopes(of: name).map(\.name).sorted()
        #expect(units.count == 2)

        let stop = try Guest.corral(["stop", "--grace", "5s", units[0]])
        #expect(stop.status == 0, "\(stop)")
        #expect(stop.stderr.contains("stopped \(units[0])"), "\(stop)")
        #expect(await Guest.eventually { (try? await Guest.scopes(of: name).map(\.name)) == [units[1]] })

        let rest = try Guest.corral(["stop", name])
        #expect(rest.status == 0, "\(rest)")
        #expect(rest.stderr.contains("stopped \(units[1])"), "\(rest)")
        #expect(await Guest.eventually { !first.isRunning && !second.isRunning })
        try await Guest.expectNothingLeft(name: name, marker: "sleep \(marker)")
        // --exec instances have no monitor to forget them: stop removed their records.
        #expect(!(try Guest.corral(["gc", "--dry-run"]).stdout.contains(name)))
    }

    @Test func aKilledMonitorLeavesAStaleInstanceThatGcCleans() async throws {
        let name = Guest.uniqueName("stale")
        let marker = Self.marker()
        // The server's main process dies with its corral (parent-death signal); what it started lives on.
        let corral = try Guest.start(["run", "--name", name, "--", "sh", "-c", "sleep $0 & wait", marker])
        _ = try await Self.waitForServer(name, marker: marker)
        let unit = try #require(try await Guest.scopes(of: name).first?.name)
        kill(corral.processIdentifier, SIGKILL)
        corral.waitUntilExit()

        let table = try Guest.corral(["ps"])
        #expect(table.status == 0, "\(table)")
        #expect(Self.rows(table.stdout, of: name).first?[3] == "stale", "\(table)")
        #expect(table.stderr.contains("corral gc"), "\(table)")
        let object = try #require(try Self.psJSON().first { $0["unit"] as? String == unit })
        #expect(object["stale"] as? Bool == true)
        #expect(object["state"] as? String == "stale")

        let dry = try Guest.corral(["gc", "--dry-run"])
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.contains("would clean \(unit)"), "\(dry)")
        #expect(Guest.processes(containing: "sleep \(marker)").count == 1, "--dry-run must not touch anything")

        let gc = try Guest.corral(["gc"])
        #expect(gc.status == 0, "\(gc)")
        #expect(gc.stdout.contains("cleaned \(unit)"), "\(gc)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep \(marker)")
        let again = try Guest.corral(["gc"])
        #expect(again.status == 0 && !again.stdout.contains(unit), "\(again)")
        #expect(!(try Guest.corral(["ps", "--all"]).stdout.contains(unit)))
    }

    @Test func gcRemovesTheRecordsOfEndedExecServers() async throws {
        let name = Guest.uniqueName("psexec")
        let run = try Guest.corral(["run", "--exec", "--name", name, "--", "true"])
        #expect(run.status == 0, "\(run)")
        try await Guest.expectNothingLeft(name: name)
        let gc = try Guest.corral(["gc"])
        #expect(gc.status == 0, "\(gc)")
        #expect(gc.stdout.contains("server '\(name)': record of a scope that is gone"), "\(gc)")
        #expect(!(try Guest.corral(["gc"]).stdout.contains(name)))
    }

    @Test func psAllShowsServersWithOnlyGuardrailState() async throws {
        let name = Guest.uniqueName("psfail")
        let run = try Guest.corral(["run", "--name", name, "--breaker-threshold", "1", "--", "false"])
        #expect(run.status == 1, "\(run)")
        // The breaker is open: the refused server is listed without --all, with no unit.
        let object = try #require(try Self.psJSON().first { $0["name"] as? String == name }, "refused servers are listed")
        #expect(object["unit"] is NSNull)
        #expect(object["state"] as? String == "inactive")
        #expect(object["breaker"] as? String == "open")
        #expect(object["consecutiveFailures"] as? Int == 1)
        #expect((object["refusedForSeconds"] as? Double ?? 0) > 0, "\(object)")
        let table = try Guest.corral(["ps"])
        #expect(Self.rows(table.stdout, of: name).first?.contains("open") == true, "\(table)")
        #expect(try Guest.corral(["reset", name]).status == 0)
        #expect(!(try Guest.corral(["ps", "--all"]).stdout.contains(name)))
    }

    @Test func stopOfAnUnknownNameExits1() throws {
        let outcome = try Guest.corral(["stop", Guest.uniqueName("nosuch")])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr.contains("nothing running matches"), "\(outcome)")
        #expect(try Guest.corral(["stop"]).status == 64)
        #expect(try Guest.corral(["stop", "--grace", "soon", "x"]).status == 64)
    }

    /// Not a pass/fail test: prints how long a listing of many servers takes (CORRAL_PSBENCH_COUNT, default 50).
    @Test func psTimingWithManyServers() async throws {
        let count = Int(ProcessInfo.processInfo.environment["CORRAL_PSBENCH_COUNT"] ?? "") ?? 50
        let prefix = Guest.uniqueName("psbench")
        let marker = Self.marker()
        var started: [Process] = []
        for index in 0..<count {
            started.append(try Guest.start(["run", "--exec", "--name", "\(prefix)-\(index)", "--", "sleep", marker]))
            // Do not fork them all at once on a slow guest: a few in flight at a time.
            if index % 10 == 9 {
                _ = await Guest.eventually(60) { Guest.processes(containing: "sleep \(marker)").count >= index - 4 }
            }
        }
        let up = try await Guest.eventually(120) {
            try await ServerInstance.list().filter { $0.name.rawValue.hasPrefix(prefix) && $0.isRunning }.count == count
        }
        #expect(up, "not all \(count) servers came up")

        let clock = ContinuousClock()
        var inProcess: [Duration] = []
        var command: [Duration] = []
        var bus: [Duration] = []
        var baseline: [Duration] = []
        for _ in 0..<5 {
            bus.append(try await clock.measure { _ = try await SystemdBus.shared().listUnits(matching: ["corral-*.scope"]) })
            baseline.append(try clock.measure { _ = try Guest.corral(["version"]) })
            inProcess.append(try await clock.measure { _ = try await ServerInstance.list() })
            var outcome: Guest.Outcome?
            command.append(try clock.measure { outcome = try Guest.corral(["ps"]) })
            #expect(outcome?.status == 0)
            #expect(outcome.map { $0.stdout.split(separator: "\n").count > count } == true)
        }
        let withUsage = try await ServerInstance.list().filter { $0.name.rawValue.hasPrefix(prefix) && $0.usage != nil }
        #expect(withUsage.count == count, "usage read for every server")
        func median(_ values: [Duration]) -> String { "\(values.sorted()[values.count / 2])" }
        print("PSBENCH (\(Guest.kind ?? "?")): \(count) servers: `corral ps` median \(median(command)) (all: \(command)); ServerInstance.list() in-process median \(median(inProcess)) (all: \(inProcess)); of which ListUnitsByPatterns median \(median(bus)); `corral version` (process start baseline) median \(median(baseline))")

        let stop = try Guest.corral(["stop", "--grace", "10s"] + (0..<count).map { "\(prefix)-\($0)" })
        #expect(stop.status == 0, "\(stop)")
        #expect(await Guest.eventually(60) { started.allSatisfy { !$0.isRunning } })
        #expect(await Guest.eventually(30) { Guest.processes(containing: "sleep \(marker)").isEmpty })
        #expect(try await Guest.eventually(30) {
            try await ServerInstance.list().filter { $0.name.rawValue.hasPrefix(prefix) && $0.unit != nil }.isEmpty
        })
    }
}
