@testable import CorralCore
import Testing

@Suite("Termination")
struct TerminationTests {
    @Test("exitCode is the status, or 128 + the signal", arguments: [
        (Termination.Status.exited(0), Int32(0)),
        (.exited(3), 3),
        (.exited(255), 255),
        (.signaled(9), 137),
        (.signaled(15), 143),
    ])
    func exitCode(status: Termination.Status, expected: Int32) {
        for reason in [Termination.Reason.exited, .oomKilled, .tasksLimit, .stopped] {
            #expect(Termination(status: status, reason: reason).exitCode == expected)
        }
    }

    @Test("descriptions say how and why")
    func descriptions() {
        #expect(Termination(status: .exited(3), reason: .exited).description == "exited with status 3")
        #expect(Termination(status: .signaled(9), reason: .exited).description == "was killed by signal 9 (SIGKILL)")
        #expect(Termination(status: .signaled(64), reason: .exited).description == "was killed by signal 64 (signal 64)")
        let oom = Termination(status: .signaled(9), reason: .oomKilled)
        #expect(oom.description.contains("OOM"))
        #expect(oom.description == "was killed by signal 9 (SIGKILL) after an OOM kill at its memory limit")
        #expect(Termination(status: .exited(1), reason: .oomKilled).description.contains("OOM"))
        #expect(Termination(status: .exited(1), reason: .tasksLimit).description == "exited with status 1 after hitting its tasks limit")
        #expect(Termination(status: .signaled(15), reason: .stopped).description == "was killed by signal 15 (SIGTERM) when stopped")
    }

    @Test("reasons have stable raw values")
    func reasonRawValues() {
        #expect(Termination.Reason.exited.rawValue == "exited")
        #expect(Termination.Reason.oomKilled.rawValue == "oom-killed")
        #expect(Termination.Reason.tasksLimit.rawValue == "tasks-limit")
        #expect(Termination.Reason.stopped.rawValue == "stopped")
    }
}
