import Foundation
import Testing

/// The example gateway starts three real MCP servers through the library, talks MCP to each, and stops them.
@Suite(.guestOnly)
struct GatewayExampleTests {
    @Test func threeRealServersAnswerThroughTheLibrary() async throws {
        let example = Guest.checkout.appendingPathComponent(".build/debug/gateway-example").path
        let bin = Guest.checkout.appendingPathComponent(".venv/bin").path
        let outcome = try Guest.run(example, [bin, Guest.checkout.path], timeout: 600)
        #expect(outcome.status == 0, "\(outcome)")
        for expected in ["fetch: mcp-fetch", "git: mcp-git", "time: mcp-time"] {
            #expect(outcome.stdout.contains(expected), "expected '\(expected)' in \(outcome.stdout)")
        }
        #expect(!outcome.stdout.contains("FAILED"), "\(outcome.stdout)")
        for name in ["gateway-time", "gateway-git", "gateway-fetch"] { try await Guest.expectNothingLeft(name: name) }
    }
}
