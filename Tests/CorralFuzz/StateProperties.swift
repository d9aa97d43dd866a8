#if CORRAL_FUZZ
@testable import Corral
@testable import CorralCore

/// Records as read back from the state directory, which anything may have written: a record that is read is written
/// back readable, and whatever it holds, a start can be decided, its outcome recorded, and a refusal or `corral ps`
/// line formatted without trapping.
enum StateProperties {
    static let name = try! ServerName("fuzz")
    static let now = 1.7e9

    static func check(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let state = ServerState(text: text) {
            require(ServerState(text: state.text)?.text == state.text, "the record is not written back readable:\n\(state.text)")
            for reason in [Refusal.Reason.probation, .backoff, .breakerOpen, .probeRunning, .instanceCap] {
                for until in [state.nextStartAt, state.breakerUntil, state.probationUntil] {
                    _ = GuardrailMessage.refused(name, Refusal(reason: reason, until: until), state, now: now)
                }
            }
            if let until = Inventory.refusal(of: state, now: now) { _ = ServerInstance.formatSpan(until - now) }
            var next = state
            _ = next.admit(now: now, policy: GuardrailPolicy())
            next.recordExit(Termination(status: .exited(1), reason: .exited, usage: nil), uptime: .seconds(1), stderr: [], now: now,
                            policy: GuardrailPolicy(), jitter: 0)
        }
        if let record = InstanceRecord(text: text) {
            require(InstanceRecord(text: record.text) == record, "the instance record is not written back the same")
            _ = ServerInstance.formatSpan(now - record.startedAt)
        }
        _ = CgroupFiles.keyed(text)
    }
}
#endif
