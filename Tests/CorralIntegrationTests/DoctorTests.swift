import Foundation
import Testing

/// `corral doctor` on a host with an unguarded gateway and no swap: the findings, then the suggested fix applied.
@Suite(.guestOnly)
struct DoctorTests {
    static func findings(_ gateway: String) throws -> (status: Int32, byID: [String: [String: String]]) {
        let outcome = try Guest.corral(["doctor", "--gateway", gateway, "--json"])
        let array = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: String]], "\(outcome)")
        return (outcome.status, Dictionary(array.map { ($0["id"] ?? "", $0) }, uniquingKeysWith: { a, _ in a }))
    }

    @Test func anUnguardedGatewayIsFoundAndTheSuggestedDropInFixesIt() throws {
        let unit = "fake-gateway-\(UInt32.random(in: 0...UInt32.max)).service"
        let systemctl = Guest.isRoot ? ["systemctl"] : ["systemctl", "--user"]
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        let directory = Guest.isRoot ? "/etc/systemd/system" : home + "/.config/systemd/user"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "[Service]\nExecStart=/bin/sleep 86411\n".write(toFile: "\(directory)/\(unit)", atomically: true, encoding: .utf8)
        _ = try Guest.run("/usr/bin/env", systemctl + ["daemon-reload"])
        let started = try Guest.run("/usr/bin/env", systemctl + ["start", unit])
        #expect(started.status == 0, "\(started)")
        defer { _ = try? Guest.run("/usr/bin/env", systemctl + ["stop", unit]) }

        let before = try Self.findings(unit)
        let memory = try #require(before.byID["gateway-memorymax"], "\(before.byID.keys.sorted())")
        // The incident's host: no MemoryMax on the gateway and no swap is severe, so doctor fails it.
        #expect(memory["severity"] == "severe")
        #expect(memory["evidence"] == "MemoryMax=infinity")
        // systemd gives every service DefaultTasksMax (15 % of pid_max): bounded, so fine.
        #expect(before.byID["gateway-tasksmax"]?["severity"] == "ok")
        #expect(before.byID["gateway-memoryhigh"]?["severity"] == "info")
        #expect(before.byID["swap"]?["severity"] == "warning", "the guest has no swap")
        #expect(before.byID["cgroup-v2"]?["severity"] == "ok")
        #expect(before.status == 1, "an unguarded gateway without swap must fail the audit")

        // Apply the fix exactly as doctor printed it.
        let fix = try #require(memory["fix"])
        #expect(fix.contains("[Service]\nMemoryMax="))
        let applied = try Guest.run("/bin/sh", ["-c", fix])
        #expect(applied.status == 0, "\(applied)")

        let after = try Self.findings(unit)
        #expect(after.byID["gateway-memorymax"]?["severity"] == "ok", "\(after.byID["gateway-memorymax"] ?? [:])")
        #expect(after.byID["gateway-memoryhigh"]?["severity"] == "info", "only the applied fix changes anything")
        let severe = after.byID.values.filter { $0["severity"] == "severe" }.map { $0["id"] ?? "" }
        #expect(after.status == (severe.isEmpty ? 0 : 1), "severe after the fix: \(severe)")
        // --strict fails on the warnings left (no swap, for one).
        let strict = try Guest.corral(["doctor", "--strict", "--gateway", unit])
        #expect(strict.status == 1, "\(strict)")
    }

    @Test func humanOutputEndsWithASummaryAndAnUnknownUnitFailsTheAudit() throws {
        let outcome = try Guest.corral(["doctor", "--gateway", "no-such-gateway.service"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("[SEVERE] gateway unit no-such-gateway.service does not exist"), "\(outcome)")
        #expect(outcome.stdout.contains(" checks: ") && !outcome.stdout.contains(" checks: 0 severe"), "\(outcome)")
        let malformed = try Guest.corral(["doctor", "--gateway", "no such unit"])
        #expect(malformed.status == 64 && malformed.stdout.isEmpty, "\(malformed)")
        #expect(malformed.stderr.contains("invalid --gateway 'no such unit'"), "\(malformed)")
    }
}
