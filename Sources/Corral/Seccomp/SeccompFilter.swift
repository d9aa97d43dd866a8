internal import CSystemdShim

/// A seccomp profile compiled to classic BPF, ready for the spawn shim to load.
struct SeccompFilter: Sendable {
    let program: [UInt8]
    /// Syscall names of rules that refuse (act otherwise than allow and than the default) which libseccomp does not
    /// know: skipped, as Docker skips them, so they refuse nothing; a typo in a deny list shows up here.
    let unknownRefusals: [String]

    /// Compiles `profile` with libseccomp for the native architecture (and the profile's extra ones).
    init(_ profile: SeccompProfile) throws(CorralError) {
        let entries = profile.rules.flatMap { rule in rule.syscalls.map { (name: $0, rule: rule) } }
        let copies = CStringArray(entries.map(\.name))
        let rules = entries.indices.map { i in
            let (action, errnoValue) = Self.shim(entries[i].rule.action)
            let conditions = entries[i].rule.conditions.prefix(6).map {
                cs_seccomp_arg(index: $0.index, op: $0.op.rawValue, value: $0.value, value_two: $0.valueTwo)
            }
            let none = cs_seccomp_arg()
            func at(_ k: Int) -> cs_seccomp_arg { k < conditions.count ? conditions[k] : none }
            return cs_seccomp_rule(syscall: copies[i], action: action, errno_value: errnoValue,
                                   args: (at(0), at(1), at(2), at(3), at(4), at(5)), arg_count: UInt32(conditions.count))
        }
        let arches = profile.extraArchitectures.map { cs_seccomp_arch($0) }
        let (defaultAction, defaultErrno) = Self.shim(profile.defaultAction)
        var program: UnsafeMutablePointer<UInt8>?
        var length = 0
        var failed = [CChar](repeating: 0, count: 64)
        let status = withExtendedLifetime(copies) {
            cs_seccomp_compile(defaultAction, defaultErrno, rules, rules.count, arches, arches.count,
                               &program, &length, &failed, failed.count)
        }
        guard status >= 0, let program else {
            let culprit = String(decoding: failed.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CorralError(.invalidConfiguration,
                              "the seccomp profile could not be compiled\(culprit.isEmpty ? "" : " (rule for \(culprit))"): \(errnoText(-status))",
                              stage: "seccomp_rule_add", errno: -status)
        }
        self.program = Array(UnsafeBufferPointer(start: program, count: length))
        program.deallocate()
        var unknown: [String] = []
        for (name, rule) in entries where rule.action != .allow && rule.action != profile.defaultAction
            && !unknown.contains(name) && !cs_seccomp_syscall_known(name) {
            unknown.append(name)
        }
        unknownRefusals = unknown
    }

    private static func shim(_ action: SeccompProfile.Action) -> (cs_seccomp_action, Int32) {
        switch action {
        case .allow: (CS_SECCOMP_ALLOW, 0)
        case .errno(let value): (CS_SECCOMP_ERRNO, value)
        case .killProcess: (CS_SECCOMP_KILL_PROCESS, 0)
        case .killThread: (CS_SECCOMP_KILL_THREAD, 0)
        case .trap: (CS_SECCOMP_TRAP, 0)
        case .log: (CS_SECCOMP_LOG, 0)
        }
    }
}
