import Corral
import Foundation
import Testing

/// Issue 13, the lifecycle races of `ServerProcess` that CoreStressTests does not cover: the min-uptime check of
/// item 5 and the stop timer's kill of item 6.
@Suite(.guestOnly)
struct LifecycleRaceTests {
    /// The minimum uptime of `guarded` servers: long enough that a loaded guest still exits well before it.
    static let minimumUptime = Duration.seconds(5)

    /// A server through the library, guardrails on with `minimumUptime`, stderr relayed to `fd`.
    static func guarded(_ name: String, _ script: String, stderr fd: Int32) -> ServerConfiguration {
        ServerConfiguration(executable: "sh", arguments: ["-c", script]) {
            $0.name = name
            $0.standardInput = .null
            $0.standardOutput = .null
            $0.standardError = .relay(to: fd)
            var policy = GuardrailPolicy()
            policy.minimumUptime = minimumUptime
            $0.guardrails = policy
        }
    }

    /// A quiet server through the library, guardrails off.
    static func sleeper(_ name: String) -> ServerConfiguration {
        ServerConfiguration(executable: "sleep", arguments: ["86421"]) {
            $0.name = name
            $0.standardInput = .null
            $0.standardOutput = .null
            $0.standardError = .null
            $0.guardrails = nil
        }
    }

    /// The server exits at once, but the end is still being processed when the minimum uptime passes: its stderr
    /// relay is held up by a reader that does not read yet (a gateway busy elsewhere). The exit came first, so it
    /// is a fast failure, never a healthy run.
    @Test("13.5: an exit before --min-uptime whose end is processed after it is not recorded as healthy")
    func anExitBeforeMinUptimeProcessedLateIsNotHealthy() async throws {
        let name = Guest.uniqueName("minuptime")
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        _ = fcntl(fds[1], 1031 /* F_SETPIPE_SZ, which Glibc does not export */, 4096)
        let started = ContinuousClock.now
        let server = try await ServerProcess.spawn(Self.guarded(name, "head -c 20000 /dev/zero >&2; exit 3", stderr: fds[1]))
        // The main process is gone (reaped by the library) well before the minimum uptime.
        let reaped = await Guest.eventually(30) { kill(server.pid, 0) != 0 && errno == ESRCH }
        #expect(reaped && ContinuousClock.now - started < Self.minimumUptime, "the server did not exit at once")
        // Lets the minimum uptime pass while the relay is held up.
        try await Task.sleep(until: started + Self.minimumUptime + .seconds(2))
        var drained = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while drained < 20000 {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            drained += n
        }
        let end = await server.wait()
        #expect(end.status == .exited(3), "\(end)")
        let state = try await ServerInstance.list().first { $0.name.rawValue == name }?.guardrails
        #expect(state?.consecutiveFailures == 1, "the exit is a fast failure: \(String(describing: state))")
        #expect(state?.proven == false, "a server that never stayed up for --min-uptime was recorded healthy")
        _ = try? Guest.corral(["reset", name])
        try await Guest.expectNothingLeft(name: name)
    }

    /// Servers stopped with a grace that runs out around the time their end is processed, while other servers of
    /// the same process start all the time (reusing descriptor numbers): the stop timer's kill must reach nothing
    /// but its own server. Every bystander must still run at the end.
    @Test("13.6: stop()'s kill after the grace never reaches another server's cgroup")
    func stopTimerNeverKillsAnotherServer() async throws {
        let base = Guest.uniqueName("stoprace")
        let rounds = 60
        let bystanders: [ServerProcess] = try await withThrowingTaskGroup(of: [ServerProcess].self) { group in
            group.addTask {
                for round in 0..<rounds {
                    let server = try await ServerProcess.spawn(Self.sleeper(base + "-stopped"))
                    _ = await server.stop(grace: .microseconds(250 * (round % 40)))
                }
                return []
            }
            group.addTask {
                var started: [ServerProcess] = []
                for _ in 0..<rounds { started.append(try await ServerProcess.spawn(Self.sleeper(base + "-bystander"))) }
                return started
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let killed = bystanders.filter { $0.termination != nil }
        #expect(killed.isEmpty, "\(killed.count) of \(bystanders.count) bystanders were killed: \(killed.first?.termination.map(String.init(describing:)) ?? "")")
        for bystander in bystanders { _ = await bystander.stop(grace: .seconds(1)) }
        try await Guest.expectNothingLeft(name: base + "-stopped", marker: "sleep 86421")
        try await Guest.expectNothingLeft(name: base + "-bystander")
    }
}
