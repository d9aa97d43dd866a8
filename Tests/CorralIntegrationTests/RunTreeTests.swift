import Foundation
import Testing

/// `corral run` kills the whole tree as one unit: when the main process exits, and when corral is told to stop.
@Suite(.guestOnly)
struct RunTreeTests {
    @Test func leftoversDieWhenTheMainProcessExits() async throws {
        let name = Guest.uniqueName("tree")
        // A grandchild in the background, and a setsid double-forked daemon, as npm -> sh -> node leaves behind.
        let script = "sleep 71001 & setsid sh -c 'sleep 71002 & exit 0' & sleep 0.5; exit 7"
        let outcome = try Guest.corral(["run", "--name", name, "--", "sh", "-c", script])
        #expect(outcome.status == 7, "\(outcome)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep 7100")
    }

    @Test func sigtermIsForwardedAndTheTreeIsKilled() async throws {
        let name = Guest.uniqueName("term")
        let corral = try Guest.start(["run", "--name", name, "--", "sh", "-c",
                                      "setsid sh -c 'sleep 72001 & exit 0'; exec sleep 72002"])
        #expect(await Guest.eventually { Guest.processes(containing: "sleep 72001").count == 1 })
        #expect(await Guest.eventually { Guest.processes(containing: "sleep 72002").count == 1 })
        #expect(try await Guest.scopes(of: name).count == 1)
        corral.terminate()
        corral.waitUntilExit()
        #expect(corral.terminationReason == .exit && corral.terminationStatus == 128 + SIGTERM,
                "corral should exit with the server's 143, got \(corral.terminationStatus)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep 7200")
    }

    @Test func aServerIgnoringSigtermDiesOnTheSecondSignal() async throws {
        let name = Guest.uniqueName("stubborn")
        let corral = try Guest.start(["run", "--name", name, "--", "sh", "-c", "trap '' TERM; sleep 73001 & wait; wait"])
        #expect(await Guest.eventually { Guest.processes(containing: "sleep 73001").count >= 1 })
        corral.terminate()
        try await Task.sleep(for: .milliseconds(300))
        #expect(corral.isRunning, "the first SIGTERM is only forwarded, and the server ignores it")
        corral.terminate()
        corral.waitUntilExit()
        #expect(corral.terminationStatus == 137, "the second signal kills the whole tree: \(corral.terminationStatus)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep 73001")
    }

    @Test func execModeLeavesNothingResidentAndKeepsTheExitCode() async throws {
        let name = Guest.uniqueName("exec")
        let outcome = try Guest.corral(["run", "--exec", "--name", name, "--", "sh", "-c",
                                        "cat /proc/self/cgroup; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; exit 5"])
        #expect(outcome.status == 5, "\(outcome)")
        // In its own cgroup namespace, rooted at the scope (ContainmentModeTests reads the scope's limits there).
        #expect(outcome.stdout.hasPrefix("0::/\n"), "\(outcome)")
        #expect(outcome.stdout.contains("Seccomp:\t2"))
        #expect(outcome.stdout.contains("NoNewPrivs:\t1"))
        try await Guest.expectNothingLeft(name: name)
    }
}
