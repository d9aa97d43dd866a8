@testable import CorralCore
import Foundation
import Synchronization
import Testing

/// The state store in a temporary directory: what admission learns from the instance records, the files' modes, and
/// the trust in the directory. Only files and /proc: no systemd needed.
@Suite("State store")
struct StateStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-state-\(UUID().uuidString)").path
    let name = try! ServerName("store-test")

    func guardrails(_ configure: (inout GuardrailPolicy) -> Void = { _ in }) -> ServerGuardrails {
        var policy = GuardrailPolicy()
        configure(&policy)
        return ServerGuardrails(store: StateStore(directory: directory), policy: policy, name: name)
    }

    /// A process that has ended: its PID with a start time no live process has.
    var gone: ProcessIdentity { ProcessIdentity(pid: getpid(), startTicks: (ProcessIdentity.current.startTicks ?? 0) + 1) }

    func record(main: ProcessIdentity, monitor: ProcessIdentity?, startedAt: Double) -> InstanceRecord {
        InstanceRecord(unit: name.newUnitName(), name: name.rawValue, monitor: monitor, main: main, cgroup: nil,
                       startedAt: startedAt)
    }

    @Test func anExecInstanceFoundGoneWithinTheMinimumUptimeIsAFastFailure() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let guardrails = guardrails { $0.breakerThreshold = 1 }
        guardrails.store.recordInstance(record(main: gone, monitor: nil, startedAt: BootTime.now))
        await #expect(throws: CorralError.self) { try await guardrails.admit() }
        let state = try guardrails.store.lock(name).state
        #expect(state.consecutiveFailures == 1 && state.breaker == .open)
        #expect(state.lastExit.contains("--exec"))
        #expect(guardrails.store.census(of: name).ended.isEmpty, "the record was collected")
    }

    @Test func anExecInstanceFoundGoneLaterTellsNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let guardrails = guardrails()
        guardrails.store.recordInstance(record(main: gone, monitor: nil, startedAt: BootTime.now - 60))
        let admission = try await guardrails.admit()
        admission.abandon()
        #expect(try guardrails.store.lock(name).state.consecutiveFailures == 0)
    }

    @Test func anExecInstanceRunningPastTheMinimumUptimeIsHealthy() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let guardrails = guardrails()
        let locked = try guardrails.store.lock(name)
        locked.state.recordFastFailure("exited with status 1", stderr: [], now: BootTime.now - 100, policy: guardrails.policy, jitter: 0)
        locked.save()
        locked.release()
        guardrails.store.recordInstance(record(main: .current, monitor: nil, startedAt: BootTime.now - 60))
        _ = try await guardrails.admit()
        #expect(try guardrails.store.lock(name).state.consecutiveFailures == 0)
    }

    @Test func theCapCountsLiveMonitorsOrphanedScopesAndReservationsButNotDeadRecords() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let guardrails = guardrails { $0.maximumInstances = 2 }
        let store = guardrails.store
        let proven = try store.lock(name)  // no probation: the cap alone decides
        proven.state.recordHealthy()
        proven.save()
        proven.release()
        store.recordInstance(record(main: gone, monitor: .current, startedAt: BootTime.now))  // a live monitor
        store.recordInstance(record(main: gone, monitor: gone, startedAt: BootTime.now))  // dead, scope gone
        let first = try await guardrails.admit()
        #expect(store.census(of: name).reserved == 1, "the admitted start holds a place before its scope exists")
        await #expect(throws: CorralError.self, "a live monitor and an admitted start fill a cap of 2") {
            try await guardrails.admit()
        }
        first.abandon()
        let census = store.census(of: name)
        #expect(census.running.count == 1 && census.reserved == 0, "the dead monitor's record was collected")
    }

    @Test func aProbationThatNoLiveStartCanEndIsOver() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let guardrails = guardrails()
        let probe = try await guardrails.admit()
        probe.ran()
        // The probe's monitor was killed: its record names a process that is gone, and no outcome will come.
        probe.launched(in: "/corral-test-no-such-cgroup").recordRunning(unit: name.newUnitName(), monitorPID: getpid(), mainPID: getpid())
        let stale = try #require(guardrails.store.census(of: name).running.first)
        var dead = stale
        dead.monitorStartTicks = gone.startTicks
        guardrails.store.recordInstance(dead)
        _ = try await guardrails.admit()  // not refused after waiting out the probation of a dead probe
    }

    /// A probe's probation counts from its exec: a spawn slower than the probation (a loaded host, the scope's bus
    /// round trip) must not let a second start through between its scope's record and its exec (the incident
    /// replay's fourth spawn of one server).
    @Test func aProbeThatHasNotExecdYetHoldsOtherStartsBackPastItsProbation() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let guardrails = guardrails { $0.probation = .milliseconds(200) }
        let probe = try await guardrails.admit()
        probe.launched(in: "/corral-test-no-such-cgroup").recordRunning(unit: name.newUnitName(), monitorPID: getpid(), mainPID: getpid())
        try await Task.sleep(for: .milliseconds(300))  // past the probation counted from the admission
        await #expect(throws: CorralError.self, "a second start waited for the probe's exec, then gave up") {
            try await guardrails.admit()
        }
        probe.ran()
        _ = try await guardrails.admit()  // waits out the probation from the exec: the probe outlived it
    }

    /// A probe whose process was killed before its exec holds nothing back, though other instances of the server
    /// still run (a proven server that failed once, next to its healthy instances).
    @Test func aProbeKilledBeforeItsExecHoldsNothingBack() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let guardrails = guardrails { $0.probation = .milliseconds(200) }
        let store = guardrails.store
        store.recordInstance(record(main: .current, monitor: .current, startedAt: BootTime.now))  // a live instance
        let locked = try store.lock(name)
        locked.state.recordFastFailure("exited with status 1", stderr: [], now: BootTime.now - 100, policy: guardrails.policy, jitter: 0)
        locked.state.probationUntil = BootTime.now - 1  // a probe admitted a while ago...
        locked.state.startingProbe = gone  // ...whose process is gone before it exec'd
        #expect(ServerState(text: locked.state.text) == locked.state, "the probe's process is kept in the record")
        #expect(!ServerState().text.contains("probe_starting"), "and only while there is one")
        locked.save()
        locked.release()
        _ = try await guardrails.admit()  // not refused: nobody is spawning that probe any more
        #expect(try store.lock(name).state.startingProbe == nil, "the killed probe is forgotten")
    }

    @Test func stateFilesAreOnlyTheOwnersAndAWritableDirectoryIsRepaired() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        chmod(directory, 0o777)
        let warnings = Warnings()
        let store = StateStore(directory: directory) { warnings.add($0) }
        let locked = try store.lock(name)
        locked.save()
        locked.release()
        let file = try FileManager.default.attributesOfItem(atPath: store.path(name))[.posixPermissions] as? Int
        #expect(file == 0o600)
        let mode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
        #expect(mode == (geteuid() == 0 ? 0o755 : 0o700))
        #expect(warnings.all.contains { $0.contains("writable by others") })
    }

    @Test func recordsWithoutStartTimesAreNeverTakenForTheRecordedProcess() throws {
        let old = "unit=corral-x-1.scope\nname=x\nmonitor=\(getpid())\nmain=\(getpid())\nstarted=1700000000\n"
        let record = try #require(InstanceRecord(text: old, wallClockOffset: 1_699_999_000))
        #expect(record.startedAt == 1000, "the first format's wall-clock start, as boot time")
        #expect(record.monitor?.startTicks == nil && record.monitor?.isRunning == false, "no start time: never verified")
        #expect(record.monitorAlive, "though its PID is taken")
        #expect(InstanceRecord(text: record.text) == record)
        #expect(InstanceRecord(text: record.text.replacingFirst("version=2", with: "version=9")) == nil)
        #expect(ProcessIdentity.current.isRunning && !gone.isRunning)
        #expect(ProcessIdentity.startTicks(inStat: "42 (a) b) Z 1 " + Array(repeating: "0", count: 20).joined(separator: " ")) == nil,
                "a zombie is not running")
        #expect(ProcessIdentity.startTicks(inStat: "42 (a) b) S" + (4...22).map { " \($0)" }.joined()) == 22)
    }
}

/// Warnings collected across the store's Sendable handler.
final class Warnings: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
