import Corral
import Foundation
import Testing

/// The incident Corral exists for, replayed for two minutes: retries of failing servers must not add up.
@Suite(.guestOnly)
struct IncidentReplayTests {
    @Test func aRetryStormSpawnsAlmostNothingAndLeavesNothing() async throws {
        let script = Guest.checkout.appendingPathComponent("Scripts/incident-replay").path
        // Detached: the replay takes minutes, and waiting for it on a pool thread stalled other tests' servers.
        let outcome = try await Guest.runDetached(script, ["120", "9", "4"], environment: ProcessInfo.processInfo.environment
            .merging(["CORRAL_BIN": Guest.corral]) { $1 }, timeout: 600)
        print(outcome.stdout)
        #expect(outcome.status == 0, "\(outcome)")
        var figures: [String: Double] = [:]
        for pair in outcome.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Double(parts[1]) { figures[String(parts[0])] = value }
        }
        let attempts = try #require(figures["attempts"])
        let spawns = try #require(figures["spawns"])
        // What the policy allows, however fast the machine retries: per server one start on probation, then one
        // after each backoff until the breaker opens (3 failures), and it stays open for longer than the replay.
        // The share of attempts this is depends on how many attempts the machine sustains; it is reported.
        let allowed = 4.0 * Double(GuardrailPolicy().breakerThreshold)
        // A real storm: far more attempts than could ever be let through (800+ on a quiet host, ~190 on a busy one).
        #expect(attempts >= 4 * allowed, "the agents should have retried many times over: \(outcome.stdout)")
        #expect(spawns <= allowed, "at most \(allowed) spawns: \(outcome.stdout)")
        #expect(figures["leftover_processes"] == 0, "\(outcome.stdout)")
        #expect(figures["leftover_scopes"] == 0, "\(outcome.stdout)")
        let peak = try #require(figures["peak_processes"])
        #expect(peak > 0, "the sampler must have seen the replay's processes: \(outcome.stdout)")
        let growth = peak - (try #require(figures["baseline_processes"]))
        // Nine agents, each with one corral and one server tree (sh + sleep) at a time.
        #expect(growth <= 9 * 4 * 3, "live processes must stay bounded: \(outcome.stdout)")
        #expect(outcome.stdout.contains("sample_refusal=corral: refusing to start server"), "\(outcome.stdout)")
    }
}
