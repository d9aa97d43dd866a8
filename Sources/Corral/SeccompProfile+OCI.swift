internal import CSystemdShim

extension SeccompProfile {
    /// Reads a seccomp profile in the OCI runtime-spec / Docker JSON format (`defaultAction`, `defaultErrnoRet`,
    /// `architectures` or `archMap`, `syscalls` with `names`, `action`, `errnoRet`, `args`, `includes`, `excludes`).
    ///
    /// Rules that Docker includes only for some capabilities are left out (Corral grants none), as are rules for
    /// other architectures. `SCMP_ACT_TRACE` and `SCMP_ACT_NOTIFY` need a tracer or supervisor and are refused.
    public init(ociJSON text: String, source: String = "seccomp profile") throws(CorralError) {
        let document: JSON
        do {
            document = try JSON(parsing: text)
        } catch {
            throw CorralError(.invalidConfiguration, "\(source) is not valid JSON: \(error)")
        }
        func fail(_ reason: String) -> CorralError {
            CorralError(.invalidConfiguration, "\(source): \(reason)")
        }
        guard case .object = document else { throw fail("expected a JSON object at the top") }
        let defaultErrno = document["defaultErrnoRet"]?.integerValue.map(Int32.init(truncatingIfNeeded:)) ?? 1
        guard let defaultName = document["defaultAction"]?.stringValue else { throw fail("'defaultAction' is missing") }
        let defaultAction = try Self.action(defaultName, errno: defaultErrno, fail)

        var architectures = document["architectures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for entry in document["archMap"]?.arrayValue ?? [] where entry["architecture"]?.stringValue == "SCMP_ARCH_X86_64" {
            architectures += entry["subArchitectures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        for name in architectures where cs_seccomp_arch(name) == 0 { throw fail("unknown architecture '\(name)'") }

        var rules: [Rule] = []
        for (position, entry) in (document["syscalls"]?.arrayValue ?? []).enumerated() {
            let at = "syscalls[\(position)]"
            guard case .object = entry else { throw fail("\(at) is not an object") }
            if let caps = entry["includes"]?["caps"]?.arrayValue, !caps.isEmpty { continue }
            if let arches = entry["includes"]?["arches"]?.arrayValue?.compactMap(\.stringValue), !arches.isEmpty,
               !arches.contains(where: Self.isNative) { continue }
            if let arches = entry["excludes"]?["arches"]?.arrayValue?.compactMap(\.stringValue),
               arches.contains(where: Self.isNative) { continue }
            var names = entry["names"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if let name = entry["name"]?.stringValue { names.append(name) }
            guard !names.isEmpty else { throw fail("\(at) names no syscall") }
            guard let actionName = entry["action"]?.stringValue else { throw fail("\(at) has no 'action'") }
            let errno = entry["errnoRet"]?.integerValue.map(Int32.init(truncatingIfNeeded:)) ?? 1
            let action = try Self.action(actionName, errno: errno, fail)
            var conditions: [Condition] = []
            for argument in entry["args"]?.arrayValue ?? [] {
                guard let index = argument["index"]?.unsignedValue, index < 6 else {
                    throw fail("\(at): an argument index must be 0 to 5")
                }
                guard let opName = argument["op"]?.stringValue, let op = Self.operators[opName] else {
                    throw fail("\(at): unknown argument operator '\(argument["op"]?.stringValue ?? "")'")
                }
                guard let value = argument["value"]?.unsignedValue else { throw fail("\(at): argument value must be a non-negative integer") }
                conditions.append(Condition(index: UInt32(index), op: op, value: value,
                                            valueTwo: argument["valueTwo"]?.unsignedValue ?? 0))
            }
            rules.append(Rule(names, action, conditions: conditions))
        }
        self.init(defaultAction: defaultAction, rules: rules, extraArchitectures: architectures)
    }

    private static let operators: [String: Condition.Operator] = [
        "SCMP_CMP_NE": .notEqual, "SCMP_CMP_LT": .lessThan, "SCMP_CMP_LE": .lessOrEqual, "SCMP_CMP_EQ": .equal,
        "SCMP_CMP_GE": .greaterOrEqual, "SCMP_CMP_GT": .greaterThan, "SCMP_CMP_MASKED_EQ": .maskedEqual,
    ]

    private static func isNative(_ arch: String) -> Bool {
        ["amd64", "x86_64", "SCMP_ARCH_X86_64"].contains(arch)
    }

    private static func action(_ name: String, errno: Int32, _ fail: (String) -> CorralError) throws(CorralError) -> Action {
        switch name {
        case "SCMP_ACT_ALLOW": return .allow
        case "SCMP_ACT_ERRNO": return .errno(errno)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return .killThread
        case "SCMP_ACT_KILL_PROCESS": return .killProcess
        case "SCMP_ACT_TRAP": return .trap
        case "SCMP_ACT_LOG": return .log
        case "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY": throw fail("\(name) needs a tracer or a supervisor; Corral supports ALLOW, ERRNO, KILL, KILL_PROCESS, KILL_THREAD, TRAP and LOG")
        default: throw fail("unknown action '\(name)'")
        }
    }
}
