import Foundation
import Testing

/// Guardrails across invocations: a failing server costs one spawn, then refusals that start nothing.
@Suite(.guestOnly)
struct GuardrailIntegrationTests {
    /// A server that fails at once with a config error and leaves a sleeping grandchild, as npm -> sh -> node does.
    static func failing(_ marker: String) -> [String] {
        ["sh", "-c", "sleep \(marker) & echo 'Error: N8N_API_URL is not set' >&2; exit 1"]
    }

    @Test func aFastFailureIsFollowedByARefusalThatNamesEverything() async throws {
        let name = Guest.uniqueName("n8n")
        // The first backoff is only 1 s, which a loaded guest can take to start the next corral: the refusal here
        // must not depend on timing, so this server's breaker opens at its first failure. Backoff timing is
        // unit-tested (GuardrailTests on the host).
        let first = try Guest.corral(["run", "--name", name, "--breaker-threshold", "1", "--"] + Self.failing("77001"))
        #expect(first.status == 1, "\(first)")
        #expect(first.stderr.contains("N8N_API_URL is not set"), "stderr passes through corral: \(first)")

        let refused = try Guest.corral(["run", "--name", name, "--"] + Self.failing("77001"))
        #expect(refused.status == 75, "\(refused)")
        for text in ["refusing to start server '\(name)'", "failed 1 time(s) in a row", "exited with status 1",
                     "circuit breaker is open", "N8N_API_URL is not set", "corral reset \(name)"] {
            #expect(refused.stderr.contains(text), "expected '\(text)' in \(refused.stderr)")
        }
        try await Guest.expectNothingLeft(name: name, marker: "sleep 77001")

        let reset = try Guest.corral(["reset", name])
        #expect(reset.status == 0, "\(reset)")
        let again = try Guest.corral(["run", "--name", name, "--", "true"])
        #expect(again.status == 0, "after reset the start goes ahead: \(again)")
    }

    @Test func theBreakerOpensAfterTheThreshold() async throws {
        let name = Guest.uniqueName("breaker")
        for attempt in 1...2 {
            let outcome = try Guest.corral(["run", "--name", name, "--breaker-threshold", "2", "--"] + Self.failing("77002"))
            #expect(outcome.status == 1, "attempt \(attempt): \(outcome)")
            if attempt == 1 { try await Task.sleep(for: .milliseconds(1300)) }  // past the first backoff (1 s +-20 %)
        }
        let refused = try Guest.corral(["run", "--name", name, "--"] + Self.failing("77002"))
        #expect(refused.status == 75, "\(refused)")
        #expect(refused.stderr.contains("circuit breaker is open"), "\(refused)")
        #expect(refused.stderr.contains("failed 2 time(s)"), "\(refused)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep 77002")
    }

    @Test func concurrentRetriesOfAnOpenBreakerSpawnNothing() async throws {
        let name = Guest.uniqueName("storm")
        let counter = FileManager.default.temporaryDirectory.appendingPathComponent("corral-spawns-\(name)").path
        let server = ["sh", "-c", "echo x >> \(counter); exit 1"]
        _ = try Guest.corral(["run", "--name", name, "--breaker-threshold", "1", "--"] + server)
        let spawnsBefore = try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count
        #expect(spawnsBefore == 1)
        let outcomes = try await withThrowingTaskGroup(of: Guest.Outcome.self) { group in
            for _ in 0..<20 { group.addTask { try Guest.corral(["run", "--name", name, "--"] + server) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { $0.status == 75 }, "\(outcomes.map(\.status))")
        #expect(outcomes.allSatisfy { !$0.stderr.contains("unreadable") }, "concurrent invocations must not corrupt the state")
        let spawnsAfter = try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count
        #expect(spawnsAfter == 1, "refused starts spawn nothing")
        try? FileManager.default.removeItem(atPath: counter)
        _ = try Guest.corral(["reset", name])
    }

    @Test func aStopThatWasAskedForIsNoFailure() async throws {
        let name = Guest.uniqueName("stopped")
        for how in ["SIGTERM to corral", "corral stop"] {
            let corral = try Guest.start(["run", "--name", name, "--", "sleep", "77004"])
            #expect(await Guest.eventually { Guest.processes(containing: "sleep 77004").count == 1 }, "\(how)")
            if how == "corral stop" {
                let stopped = try Guest.corral(["stop", name])
                #expect(stopped.status == 0, "\(stopped)")
            } else {
                corral.terminate()
            }
            corral.waitUntilExit()
            #expect(corral.terminationStatus == 143, "\(how): \(corral.terminationStatus)")
            // Stopped well within --min-uptime: still no backoff for the next start.
            let again = try Guest.corral(["run", "--name", name, "--", "true"])
            #expect(again.status == 0, "\(how) must not count as a failure: \(again)")
            // `true` exits at once, a fast failure of its own (issue 13.5): the next round must not inherit it.
            _ = try Guest.corral(["reset", name])
        }
        try await Guest.expectNothingLeft(name: name, marker: "sleep 77004")
    }

    @Test func theInstanceCapRefusesExtraInstances() async throws {
        let name = Guest.uniqueName("capped")
        let first = try Guest.start(["run", "--name", name, "--max-instances", "1", "--", "sleep", "77003"])
        #expect(try await Guest.eventually { try await Guest.scopes(of: name).count == 1 })
        let second = try Guest.corral(["run", "--name", name, "--max-instances", "1", "--", "sleep", "77003"])
        #expect(second.status == 75, "\(second)")
        #expect(second.stderr.contains("1 instance(s) are running"), "\(second)")
        first.terminate()
        first.waitUntilExit()
        try await Guest.expectNothingLeft(name: name, marker: "sleep 77003")
    }

    @Test func aCorruptStateFileIsResetWithAWarning() async throws {
        let name = Guest.uniqueName("corrupt")
        let directory = Guest.isRoot ? "/run/corral" : (ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(getuid())") + "/corral"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "version=1\nconsecutive_fail".write(toFile: "\(directory)/\(name.replacingOccurrences(of: "-", with: "\\x2d")).state",
                                                 atomically: true, encoding: .utf8)
        let outcome = try Guest.corral(["run", "--name", name, "--", "true"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stderr.contains("was unreadable and has been reset"), "\(outcome)")
    }
}
