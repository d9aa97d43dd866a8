import Corral
import Foundation
import Testing

/// The foundation path: the shim opens the manager's bus, reads a property, creates a real scope with limits around a
/// child, and stops it again.
@Suite(.guestOnly)
struct SystemdBusTests {
    @Test func guestRunsSystemdOnCgroupV2() throws {
        let comm = try String(contentsOfFile: "/proc/1/comm", encoding: .utf8)
        #expect(comm.hasPrefix("systemd"))
        let controllers = try String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)
        for controller in ["memory", "pids", "cpu"] { #expect(controllers.contains(controller)) }
    }

    @Test func readsTheManagerVersion() async throws {
        let bus = try SystemdBus.shared()
        #expect(bus.manager == (Guest.isRoot ? .system : .user))
        let version = try await bus.stringProperty("Version")
        #expect(version.hasPrefix("252"), "Version was '\(version)'")
    }

    @Test func startsAScopeWithLimitsAroundAChildAndStopsIt() async throws {
        let bus = try SystemdBus.shared()
        let child = Process()
        // Foundation spawns with the spawning thread's signal mask, and Swift's pool threads block every signal:
        // unblock them in the child first, or systemd's SIGTERM would wait 90 s for the SIGKILL.
        child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        child.arguments = ["-c", "import os, signal; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv('/bin/sleep', ['sleep', '76001'])"]
        try child.run()
        #expect(await Guest.eventually { Guest.processes(containing: "sleep 76001").count == 1 })
        defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }

        let unit = "corral-bustest-\(UInt32.random(in: 0...UInt32.max)).scope"
        try await bus.startTransientUnit(unit, properties: [
            UnitProperty("Description", .string("Corral integration test")),
            UnitProperty("MemoryMax", .uint64(64 << 20)),
            UnitProperty("TasksMax", .uint64(7)),
            UnitProperty("PIDs", .pids([UInt32(child.processIdentifier)])),
        ])
        let membership = try String(contentsOfFile: "/proc/\(child.processIdentifier)/cgroup", encoding: .utf8)
        let path = try #require(membership.split(separator: "\n").first { $0.hasPrefix("0::") }).dropFirst(3)
        #expect(path.hasSuffix("/" + unit))
        let directory = "/sys/fs/cgroup" + path
        #expect(try String(contentsOfFile: directory + "/memory.max", encoding: .utf8) == "67108864\n")
        #expect(try String(contentsOfFile: directory + "/pids.max", encoding: .utf8) == "7\n")

        try await bus.stopUnit(unit)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGTERM)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func reportsARefusedUnitWithSystemdsOwnMessage() async throws {
        let bus = try SystemdBus.shared()
        await #expect {
            try await bus.startTransientUnit("corral-bad-\(UInt32.random(in: 0...UInt32.max)).scope",
                                             properties: [UnitProperty("NoSuchProperty", .bool(true))])
        } throws: { error in
            guard let error = error as? CorralError else { return false }
            return error.code == .unitFailed && error.message.contains("NoSuchProperty")
                && error.busErrorName != nil
        }
    }
}
