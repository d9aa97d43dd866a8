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
        guard case .object(let members) = document else { throw fail("expected a JSON object at the top") }
        try Self.knownKeys(members, Self.profileKeys, "the profile", fail)
        guard let defaultName = try Self.string(document["defaultAction"], "'defaultAction'", fail) else {
            throw fail("'defaultAction' is missing")
        }
        let defaultErrno = try Self.errno(document["defaultErrnoRet"], "'defaultErrnoRet'", fail)
        let defaultAction = try Self.action(defaultName, errno: defaultErrno, fail)

        var architectures = try Self.strings(document["architectures"], "'architectures'", fail)
        for (position, entry) in try Self.array(document["archMap"], "'archMap'", fail).enumerated()
        where entry["architecture"]?.stringValue.map(Self.isNative) == true {
            architectures += try Self.strings(entry["subArchitectures"], "archMap[\(position)].subArchitectures", fail)
        }
        for name in architectures where !Self.isKnownArchitecture(name) { throw fail("unknown architecture '\(name)'") }

        var rules: [Rule] = []
        for (position, entry) in try Self.array(document["syscalls"], "'syscalls'", fail).enumerated() {
            let at = "syscalls[\(position)]"
            guard case .object(let members) = entry else { throw fail("\(at) is not an object") }
            try Self.knownKeys(members, Self.ruleKeys, at, fail)
            if !(try Self.strings(entry["includes"]?["caps"], "\(at).includes.caps", fail)).isEmpty { continue }
            let included = try Self.strings(entry["includes"]?["arches"], "\(at).includes.arches", fail)
            if !included.isEmpty, !included.contains(where: Self.isNative) { continue }
            if try Self.strings(entry["excludes"]?["arches"], "\(at).excludes.arches", fail).contains(where: Self.isNative) {
                continue
            }
            var names = try Self.strings(entry["names"], "\(at).names", fail)
            if let name = try Self.string(entry["name"], "\(at).name", fail) { names.append(name) }
            guard !names.isEmpty else { throw fail("\(at) names no syscall") }
            guard let actionName = try Self.string(entry["action"], "\(at).action", fail) else { throw fail("\(at) has no 'action'") }
            let action = try Self.action(actionName, errno: try Self.errno(entry["errnoRet"], "\(at).errnoRet", fail), fail)
            var conditions: [Condition] = []
            for argument in try Self.array(entry["args"], "\(at).args", fail) {
                guard let index = argument["index"]?.unsignedValue, index < 6 else {
                    throw fail("\(at): an argument index must be 0 to 5")
                }
                guard !conditions.contains(where: { $0.index == index }) else {
                    throw fail("\(at): argument \(index) is compared twice; libseccomp takes one comparison per argument "
                        + "in a rule (write two rules)")
                }
                guard let opName = argument["op"]?.stringValue, let op = Self.operators[opName] else {
                    throw fail("\(at): unknown argument operator '\(argument["op"]?.stringValue ?? "")'")
                }
                let valueTwo = argument["valueTwo"]
                guard let value = argument["value"]?.unsignedValue, valueTwo == nil || valueTwo?.unsignedValue != nil else {
                    throw fail("\(at): argument value must be a non-negative integer")
                }
                conditions.append(Condition(index: UInt32(index), op: op, value: value, valueTwo: valueTwo?.unsignedValue ?? 0))
            }
            rules.append(Rule(names, action, conditions: conditions))
        }
        self.init(defaultAction: defaultAction, rules: rules, extraArchitectures: architectures)
    }

    private static let operators: [String: Condition.Operator] = [
        "SCMP_CMP_NE": .notEqual, "SCMP_CMP_LT": .lessThan, "SCMP_CMP_LE": .lessOrEqual, "SCMP_CMP_EQ": .equal,
        "SCMP_CMP_GE": .greaterOrEqual, "SCMP_CMP_GT": .greaterThan, "SCMP_CMP_MASKED_EQ": .maskedEqual,
    ]

    /// What the OCI runtime spec and Docker put in a profile and in one of its rules. Anything else is most likely a
    /// typo ("syscall" for "syscalls") that would silently weaken the filter, so it is refused.
    private static let profileKeys: Set = ["defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags",
                                           "listenerPath", "listenerMetadata", "comment"]
    private static let ruleKeys: Set = ["names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"]

    private static func knownKeys(_ members: [JSON.Member], _ known: Set<String>, _ what: String,
                                  _ fail: (String) -> CorralError) throws(CorralError) {
        if let unknown = members.first(where: { !known.contains($0.key) }) {
            throw fail("\(what) has an unknown key '\(unknown.key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// A member that must be a string when present: a wrong type is an error, never a silent default. Here and
    /// below, null is absent: profiles written by Go (containers/common) say "args": null.
    private static func string(_ value: JSON?, _ what: String, _ fail: (String) -> CorralError) throws(CorralError) -> String? {
        guard let value, value != .null else { return nil }
        guard let string = value.stringValue else { throw fail("\(what) must be a string, not \(value.compactText.prefix(40))") }
        return string
    }

    /// A member that must be an array when present (absent is empty).
    private static func array(_ value: JSON?, _ what: String, _ fail: (String) -> CorralError) throws(CorralError) -> [JSON] {
        guard let value, value != .null else { return [] }
        guard let values = value.arrayValue else { throw fail("\(what) must be an array, not \(value.compactText.prefix(40))") }
        return values
    }

    /// A member that must be an array of strings when present (absent is empty).
    private static func strings(_ value: JSON?, _ what: String, _ fail: (String) -> CorralError) throws(CorralError) -> [String] {
        var strings: [String] = []
        for element in try array(value, what, fail) {
            guard let string = element.stringValue else {
                throw fail("\(what) must be an array of strings, but holds \(element.compactText.prefix(40))")
            }
            strings.append(string)
        }
        return strings
    }

    /// An errno for SCMP_ACT_ERRNO: 1 (EPERM) when absent, else 0 to 4095 (the kernel's MAX_ERRNO).
    private static func errno(_ value: JSON?, _ what: String, _ fail: (String) -> CorralError) throws(CorralError) -> Int32 {
        guard let value, value != .null else { return 1 }
        guard let number = value.integerValue, (0...4095).contains(number) else {
            throw fail("\(what) must be an errno number from 0 to 4095, not \(value.compactText.prefix(40))")
        }
        return Int32(number)
    }

    /// Whether `arch` (an OCI, Go or libseccomp name) is the architecture this build runs on.
    private static func isNative(_ arch: String) -> Bool {
        #if arch(x86_64)
        ["amd64", "x86_64", "SCMP_ARCH_X86_64"].contains(arch)
        #elseif arch(arm64)
        ["arm64", "aarch64", "SCMP_ARCH_AARCH64"].contains(arch)
        #else
        #error("Corral's seccomp profiles know x86_64 and arm64 only")
        #endif
    }

    /// Whether libseccomp (2.5) knows the architecture, named as in OCI profiles ("SCMP_ARCH_X86") or without the
    /// prefix in lower case ("x86"), as seccomp_arch_resolve_name takes it.
    private static func isKnownArchitecture(_ name: String) -> Bool {
        let bare = name.hasPrefix("SCMP_ARCH_") ? name.dropFirst("SCMP_ARCH_".count).lowercased() : name.lowercased()
        return ["x86", "x86_64", "x32", "arm", "aarch64", "mips", "mips64", "mips64n32", "mipsel", "mipsel64",
                "mipsel64n32", "ppc", "ppc64", "ppc64le", "s390", "s390x", "parisc", "parisc64", "riscv64"].contains(bare)
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
