import Foundation
import Testing

/// `corral check`: a real handshake with a working server; a clear report on a broken one; nothing left either way.
@Suite(.guestOnly)
struct CheckCommandTests {
    @Test func healthyServerPassesWithItsNameAndTools() async throws {
        let name = Guest.uniqueName("checktime")
        let server = Guest.checkout.appendingPathComponent(".venv/bin/mcp-server-time").path
        let outcome = try Guest.corral(["check", "--json", "--timeout", "5min", "--name", name, "--", server], timeout: 600)
        #expect(outcome.status == 0, "\(outcome)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(report["ok"] as? Bool == true)
        #expect((report["server"] as? [String: Any])?["name"] as? String == "mcp-time", "\(report)")
        #expect((report["tools"] as? [String])?.contains("get_current_time") == true, "\(report)")
        #expect((report["memoryPeakBytes"] as? Int ?? 0) > 1 << 20, "\(report)")
        #expect(report["firstResponseSeconds"] is Double || report["firstResponseSeconds"] is Int, "\(report)")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func misconfiguredServerFailsWithItsOwnWords() async throws {
        let name = Guest.uniqueName("checkbad")
        let outcome = try Guest.corral(["check", "--name", name, "--", "sh", "-c",
                                        "echo starting >&2; sleep 86409 & echo 'Error: N8N_API_URL is not set' >&2; exit 1"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("failed: server '\(name)'"), "\(outcome)")
        #expect(outcome.stdout.contains("exited with status 1"), "\(outcome)")
        #expect(outcome.stdout.contains("N8N_API_URL is not set"), "\(outcome)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep 86409")
    }

    @Test func silentServerTimesOutAndIsStopped() async throws {
        let name = Guest.uniqueName("checksilent")
        let outcome = try Guest.corral(["check", "--json", "--timeout", "2s", "--name", name, "--", "sleep", "86410"])
        #expect(outcome.status == 1, "\(outcome)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(report["ok"] as? Bool == false)
        #expect((report["failure"] as? String)?.contains("no answer within") == true, "\(report)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep 86410")
    }

    @Test func unstartableServerIsAStartError() async throws {
        let outcome = try Guest.corral(["check", "--", "no-such-server-binary"])
        #expect(outcome.status == 127, "\(outcome)")
        #expect(outcome.stdout.contains("could not be started"))
    }
}
