import Foundation
import Testing

/// A real MCP server from PyPI, driven by the official MCP Python SDK's stdio client, works through `corral run`
/// unchanged: seccomp on, limits on, nothing written to stdout but the server's own JSON-RPC.
@Suite(.guestOnly)
struct MCPServerTests {
    static let python = Guest.checkout.appendingPathComponent(".venv/bin/python").path
    static let client = Guest.checkout.appendingPathComponent("Examples/mcp_stdio_client.py").path
    static let server = Guest.checkout.appendingPathComponent(".venv/bin/mcp-server-time").path

    @Test func mcpServerTimeAnswersThroughCorral() async throws {
        let name = Guest.uniqueName("time")
        // Heavy Python imports are slow over 9p under TCG: minutes, not seconds.
        let outcome = try Guest.run(Self.python, [Self.client, Guest.corral, "run", "--name", name, "--memory-max", "256M",
                                                  "--tasks-max", "64", "--", Self.server], timeout: 600)
        #expect(outcome.status == 0, "\(outcome)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any],
                                  "\(outcome)")
        #expect(report["server"] as? String == "mcp-time")
        #expect((report["tools"] as? [String])?.contains("get_current_time") == true)
        #expect((report["get_current_time"] as? String)?.contains("\"timezone\": \"UTC\"") == true, "\(report)")
        try await Guest.expectNothingLeft(name: name)
    }
}
