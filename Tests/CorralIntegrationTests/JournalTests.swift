import Corral
import CorralLogging
import Foundation
import Logging
import Testing

/// Lifecycle events reach the journal as structured entries: from `corral run`, and from a gateway that logs the
/// library's events through swift-log and `JournalLogHandler`.
@Suite(.guestOnly, .enabled(if: Guest.isRoot, "an unprivileged user cannot read the (volatile) system journal"))
struct JournalTests {
    /// The journal entries of server `name`, as journalctl's JSON objects, once `count` of them are there.
    private func entries(of name: String, atLeast count: Int) async throws -> [[String: Any]] {
        var found: [[String: Any]] = []
        _ = try await Guest.eventually(30) {
            let outcome = try Guest.run("/bin/journalctl", ["--no-pager", "-o", "json", "CORRAL_SERVER=\(name)"])
            found = outcome.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            return found.count >= count
        }
        return found
    }

    @Test func runWritesStartAndExitWithTheirFields() async throws {
        let name = Guest.uniqueName("journal")
        let outcome = try Guest.corral(["run", "--name", name, "--", "sh", "-c", "exit 3"])
        #expect(outcome.status == 3, "\(outcome)")
        let found = try await entries(of: name, atLeast: 2)
        let start = found.first { $0["CORRAL_EVENT"] as? String == "start" }
        let exit = found.first { $0["CORRAL_EVENT"] as? String == "exit" }
        #expect(start?["SYSLOG_IDENTIFIER"] as? String == "corral", "\(found)")
        #expect((start?["CORRAL_UNIT"] as? String)?.hasPrefix("corral-journal") == true, "\(found)")
        #expect(start?["CORRAL_PID"] != nil, "\(found)")
        #expect(exit?["CORRAL_EXIT_STATUS"] as? String == "3", "\(found)")
        #expect(exit?["CORRAL_REASON"] as? String == "exited", "\(found)")
        #expect(exit?["PRIORITY"] as? String == "6", "\(found)")
    }

    @Test func aGatewayLogsTheSameEventsThroughSwiftLog() async throws {
        let name = Guest.uniqueName("swiftlog")
        let logger = Logger(label: "gateway-test") { JournalLogHandler(label: $0) }
        let server = try await ServerProcess.spawn(ServerConfiguration(executable: "sh", arguments: ["-c", "exit 4"]) {
            $0.name = name
            $0.guardrails = nil
        })
        logger.log(ServerEvent.started(server))
        logger.log(ServerEvent.ended(await server.wait(), of: server))
        let found = try await entries(of: name, atLeast: 2)
        let exit = found.first { $0["CORRAL_EVENT"] as? String == "exit" }
        #expect(exit?["SYSLOG_IDENTIFIER"] as? String == "gateway-test", "\(found)")
        #expect(exit?["CORRAL_UNIT"] as? String == server.unit, "\(found)")
        #expect(exit?["CORRAL_EXIT_STATUS"] as? String == "4", "\(found)")
        #expect((exit?["MESSAGE"] as? String)?.contains("exited with status 4") == true, "\(found)")
        #expect(exit?["CODE_FUNC"] != nil, "\(found)")
    }
}
