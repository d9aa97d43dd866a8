import Corral
import Foundation
import Testing

/// Issue 13.5: guardrails that cannot be walked around.
extension CoreStressTests {
    // MARK: 5. Guardrails that cannot be walked around

    /// Either `--exec` records its outcome (the second fast failure is refused), or its help says that it has no
    /// guardrails (the issue allows both; then `wrap` must never emit it, which WrapCommandTests can check).
    @Test("13.5: repeated failing corral run --exec is refused like any other fast failure")
    func execFailuresEngageTheGuardrails() async throws {
        let name = Guest.uniqueName("execfail")
        let help = try Guest.corral(["help", "run"])
        let documented = help.stdout.range(of: #"--exec[^\n]*(\n[^\n-][^\n]*)*no guardrails"#, options: .regularExpression) != nil
        var statuses: [Int32] = []
        for _ in 0..<3 {
            let outcome = try Guest.corral(["run", "--exec", "--name", name, "--breaker-threshold", "1", "--", "sh", "-c", "exit 3"])
            statuses.append(outcome.status)
        }
        if !documented {
            #expect(statuses.dropFirst().allSatisfy { $0 == 75 },
                    "after a fast failure with --breaker-threshold 1, --exec starts must be refused: statuses \(statuses)")
        }
        await Self.cleanUp(name)
        try await Guest.expectNothingLeft(name: name)
    }

    /// A server that exits 0 at once, every time, is a crash loop too: it must not end probation as healthy.
    @Test("13.5: an exit with status 0 before --min-uptime is a fast failure")
    func anExitZeroBeforeMinUptimeIsAFastFailure() async throws {
        let name = Guest.uniqueName("exitzero")
        let first = try Guest.corral(["run", "--name", name, "--breaker-threshold", "1", "--", "true"])
        #expect(first.status == 0, "\(first)")
        let second = try Guest.corral(["run", "--name", name, "--breaker-threshold", "1", "--", "true"])
        #expect(second.status == 75, "exit 0 after a few ms must count as a fast failure and open the breaker: \(second)")
        await Self.cleanUp(name)
        try await Guest.expectNothingLeft(name: name)
    }

    /// corral SIGKILLed: its server dies of PDEATHSIG, but a background child stays in the scope. That orphaned
    /// scope is a running instance: a new start under --max-instances 1 must be refused, or admit must collect the
    /// orphan itself before it starts the new one; never two live scopes.
    @Test("13.5: the orphaned scope of a SIGKILLed monitor counts against the instance cap")
    func anOrphanedScopeOfAKilledMonitorCountsAgainstTheInstanceCap() async throws {
        let name = Guest.uniqueName("orphan")
        let marker = Self.marker()
        defer { Guest.killProcesses(containing: "sleep \(marker)") }
        let first = try Guest.start(["run", "--name", name, "--max-instances", "1", "--", "sh", "-c", "sleep \(marker) & wait"])
        let up = await Guest.eventually(30) { !Guest.processes(containing: "sleep \(marker)").isEmpty }
        #expect(up, "the first server did not start")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let orphaned = try await Guest.eventually(10) { try await Guest.scopes(of: name).contains { $0.activeState == "active" } }
        #expect(orphaned, "expected the orphaned scope to hold the background sleep")
        let second = try Guest.start(["run", "--name", name, "--max-instances", "1", "--", "sleep", marker + "1"])
        // Decided when it was refused (exited) or its server runs.
        let decided = await Guest.eventually(30) { !second.isRunning || !Guest.processes(containing: "sleep \(marker)1").isEmpty }
        #expect(decided)
        let live = try await Guest.scopes(of: name).filter { $0.activeState == "active" }.map(\.name)
        if second.isRunning {
            #expect(live.count == 1, "two live scopes under --max-instances 1 (the orphan was neither counted nor collected): \(live)")
            second.terminate()
        } else {
            #expect(second.terminationStatus == 75, "refused by the cap: \(second.terminationStatus)")
        }
        second.waitUntilExit()
        // corral stop ends the orphan whole: its scope and the leaf slice that only its dead monitor would stop.
        let stop = try Guest.corral(["stop", name])
        #expect(stop.status == 0, "\(stop)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep \(marker)")
        await Self.cleanUp(name)
    }
}
