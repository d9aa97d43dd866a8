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
        #expect(memory["severity"] == "warning")
        #expect(memory["evidence"] == "MemoryMax=infinity")
        // systemd gives every service DefaultTasksMax (15 % of pid_max): bounded, so fine.
        #expect(before.byID["gateway-tasksmax"]?["severity"] == "ok")
        #expect(before.byID["gateway-memoryhigh"]?["severity"] == "info")
        #expect(before.byID["swap"]?["severity"] == "warning", "the guest has no swap")
        #expect(before.byID["cgroup-v2"]?["severity"] == "ok")
        #expect(before.status == 0, "nothing here is severe")

        // Apply the fix exactly as doctor printed it.
        let fix = try #require(memory["fix"])
        #expect(fix.contains("[Service]\nMemoryMax="))
        let applied = try Guest.run("/bin/sh", ["-c", fix])
        #expect(applied.status == 0, "\(applied)")

        let after = try Self.findings(unit)
        #expect(after.byID["gateway-memorymax"]?["severity"] == "ok", "\(after.byID["gateway-memorymax"] ?? [:])")
        #expect(after.byID["gateway-memoryhigh"]?["severity"] == "info", "only the applied fix changes anything")
    }

    @Test func humanOutputEndsWithASummaryAndAnUnknownUnitIsAWarning() throws {
        let outcome = try Guest.corral(["doctor", "--gateway", "no-such-gateway.service"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("[WARNING] gateway unit no-such-gateway.service is not loaded"), "\(outcome)")
        #expect(outcome.stdout.contains(" checks: 0 severe"), "\(outcome)")
    }
}
