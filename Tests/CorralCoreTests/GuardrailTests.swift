@testable import CorralCore
import Foundation
import Testing

@Suite("Guardrails")
struct GuardrailTests {
    let policy = GuardrailPolicy()
    let failure = Termination(status: .exited(1), reason: .exited, usage: nil)

    @Test func backoffDoublesFromOneSecondUpToTheCap() {
        #expect(policy.backoff(afterFailures: 0) == .zero)
        #expect(policy.backoff(afterFailures: 1) == .seconds(1))
        #expect(policy.backoff(afterFailures: 2) == .seconds(2))
        #expect(policy.backoff(afterFailures: 5) == .seconds(16))
        #expect(policy.backoff(afterFailures: 9) == .seconds(256))
        #expect(policy.backoff(afterFailures: 10) == .seconds(300))
        #expect(policy.backoff(afterFailures: 1000) == .seconds(300))
    }

    @Test func aFastFailureSetsBackoffWithinTheJitter() {
        var state = ServerState()
        #expect(state.admit(now: 100, policy: policy) == nil)
        state.recordExit(failure, uptime: .seconds(1), stderr: ["boom"], now: 101, policy: policy, jitter: 1)
        #expect(state.consecutiveFailures == 1)
        #expect(state.nextStartAt == 101 + 1.2)
        #expect(state.lastStderr == ["boom"])
        #expect(state.admit(now: 102, policy: policy) == Refusal(reason: .backoff, until: 102.2))
        #expect(state.admit(now: 102.3, policy: policy) == nil)
        #expect(state.starts == 2)
    }

    @Test func theBreakerOpensAtTheThresholdThenLetsOneProbeThrough() {
        var state = ServerState()
        var now = 0.0
        for _ in 1...policy.breakerThreshold {
            #expect(state.admit(now: now, policy: policy) == nil)
            state.recordExit(failure, uptime: .seconds(1), stderr: [], now: now, policy: policy, jitter: 0)
            now = state.nextStartAt
        }
        #expect(state.breaker == .open)
        #expect(state.admit(now: now, policy: policy)?.reason == .breakerOpen)
        now = state.breakerUntil
        #expect(state.admit(now: now, policy: policy) == nil, "one probe after the open period")
        #expect(state.breaker == .halfOpen)
        #expect(state.admit(now: now + 1, policy: policy)?.reason == .probeRunning)
        state.recordExit(failure, uptime: .seconds(1), stderr: [], now: now + 1, policy: policy, jitter: 0)
        #expect(state.breaker == .open, "a failed probe opens the breaker again")
    }

    @Test func theFirstStartOfAnUnprovenServerIsOnProbation() {
        var state = ServerState()
        #expect(state.admit(now: 10, policy: policy) == nil)
        #expect(state.admit(now: 11, policy: policy) == Refusal(reason: .probation, until: 13), "siblings wait")
        #expect(state.admit(now: 13, policy: policy) == nil, "a probe that survived its probation lets others go")
        #expect(state.admit(now: 13.1, policy: policy) == nil, "all of them")
        var proven = ServerState()
        proven.recordHealthy()
        #expect(proven.admit(now: 10, policy: policy) == nil)
        #expect(proven.admit(now: 10.5, policy: policy) == nil, "a proven server has no probation")
        var failed = ServerState()
        #expect(failed.admit(now: 10, policy: policy) == nil)
        failed.recordExit(failure, uptime: .milliseconds(300), stderr: [], now: 10.3, policy: policy, jitter: 0)
        #expect(failed.admit(now: 10.5, policy: policy)?.reason == .backoff, "a failed probe turns waiters into refusals")
        #expect(failed.admit(now: 11.3, policy: policy) == nil, "after the backoff, one start")
        #expect(failed.admit(now: 11.4, policy: policy)?.reason == .probation, "and only one, while it is failing")
    }

    @Test func stayingUpClosesEverything() {
        var state = ServerState()
        state.recordExit(failure, uptime: .seconds(1), stderr: [], now: 0, policy: policy, jitter: 0)
        state.recordExit(failure, uptime: .seconds(60), stderr: [], now: 10, policy: policy, jitter: 0)
        #expect(state.consecutiveFailures == 0 && state.nextStartAt == 0 && state.breaker == .closed)
    }

    @Test func aRequestedStopIsNeitherFailureNorSuccess() {
        var state = ServerState()
        state.recordExit(failure, uptime: .seconds(1), stderr: [], now: 0, policy: policy, jitter: 0)
        let stopped = Termination(status: .signaled(15), reason: .stopped, usage: nil)
        state.recordExit(stopped, uptime: .seconds(1), stderr: [], now: 1, policy: policy, jitter: 0)
        #expect(state.consecutiveFailures == 1)
    }

    @Test func aCleanQuickExitIsAFastFailureToo() {
        var state = ServerState()
        #expect(state.admit(now: 0, policy: policy) == nil)
        let clean = Termination(status: .exited(0), reason: .exited, usage: nil)
        state.recordExit(clean, uptime: .milliseconds(5), stderr: [], now: 0, policy: policy, jitter: 0)
        #expect(state.consecutiveFailures == 1, "exiting 0 at once, every time, is a crash loop")
        #expect(!state.proven && state.isOnTrial, "and it does not end probation as healthy")
        state.recordExit(clean, uptime: .seconds(11), stderr: [], now: 20, policy: policy, jitter: 0)
        #expect(state.consecutiveFailures == 0 && state.proven, "a clean exit after the minimum uptime is fine")
    }

    @Test func recordsOfTheFirstFormatHoldWallClockTimesAndAreConverted() throws {
        let old = "version=1\nconsecutive_failures=2\nstarts=3\nnext_start_at=1700000100.5\nbreaker=closed\n"
            + "breaker_until=0\nlast_exit=exited with status 1\nlast_exit_at=1700000099.5\nproven=0\nprobation_until=0\n"
        let state = try #require(ServerState(text: old, wallClockOffset: 1_700_000_000))
        #expect(state.nextStartAt == 100.5 && state.lastExitAt == 99.5, "wall clock less the offset: boot time")
        #expect(state.breakerUntil == 0 && state.probationUntil == 0, "an unset time stays unset")
        #expect(state.text.hasPrefix("version=2\n"))
        #expect(ServerState(text: state.text, wallClockOffset: 1_700_000_000) == state, "version 2 is not converted")
        #expect(ServerState(text: state.text.replacingFirst("version=2", with: "version=3")) == nil, "an unknown version")
    }

    @Test func recordsRoundTripAndCorruptOnesAreRejected() throws {
        var state = ServerState()
        state.consecutiveFailures = 3
        state.starts = 7
        state.breaker = .halfOpen
        state.breakerUntil = 1234.5
        state.lastExit = "exited with status 1"
        state.lastStderr = ["line with \\ backslash", "multi\nline"]
        state.proven = true
        state.probationUntil = 99.5
        let parsed = try #require(ServerState(text: state.text))
        #expect(parsed == state)
        let text = state.text
        #expect(ServerState(text: String(text.dropLast(10))) == nil, "truncated")
        #expect(ServerState(text: "garbage\n") == nil)
        #expect(ServerState(text: text.replacingFirst("breaker=half-open", with: "breaker=ajar")) == nil)
        #expect(ServerState(text: text.replacingFirst("starts=7", with: "starts=-1")) == nil)
        #expect(ServerState(text: "") == nil)
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
