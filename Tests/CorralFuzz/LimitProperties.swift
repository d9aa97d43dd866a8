#if CORRAL_FUZZ
@testable import Corral
@testable import CorralCore

/// The first byte picks a parser, the rest is its text. A parsed limit means what its text says: written back as a
/// plain number it parses to itself, and it becomes scope properties without trapping.
enum LimitProperties {
    static func check(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        var limits = Limits()
        switch selector % 7 {
        case 0:
            guard let memory = try? Limits.Memory(text) else { return }
            if case .bytes(let count) = memory {
                require((try? Limits.Memory(String(count))) == memory, "\(text.debugDescription) is \(count) bytes, which does not parse back")
            }
            if case .permyriad(let share) = memory { require(share <= 10_000, "\(text.debugDescription) is more than 100%") }
            limits.memoryMax = memory
        case 1:
            guard let tasks = try? Limits.Tasks(text) else { return }
            if case .count(let count) = tasks {
                require(count > 0 && (try? Limits.Tasks(String(count))) == tasks, "\(text.debugDescription) is \(count) tasks")
            }
            limits.tasksMax = tasks
        case 2:
            guard let quota = try? Limits.cpuQuota(text) else { return }
            require(quota > 0 && quota <= UInt64(Int32.max), "\(text.debugDescription) is a quota of \(quota)")
            limits.cpuQuota = quota
        case 3:
            guard let span = try? Limits.timeSpan(text) else { return }
            require(span > 0 && SystemdSyntax.microseconds("\(span)us") == span, "\(text.debugDescription) is \(span) us")
            limits.runtimeMax = span
        case 4:
            guard (try? limits.set(text)) != nil else { return }
        case 5:
            runOption(text, choosing: Int(selector / 7))
        default:
            byteCount(Array(bytes.dropFirst()))
        }
        _ = limits.unitProperties
        _ = limits.requiredControllers
    }

    /// wrap's run options: a value accepted is passed on exactly (profiles are files, and left to the seccomp
    /// target), except a sandbox path, which is passed on resolved: absolute, and the very path the value names.
    static func runOption(_ value: String, choosing index: Int) {
        let names = MCPConfig.RunOptions.names.filter { $0[0] != "--seccomp" }
        let spellings = names[index % names.count]
        var options = MCPConfig.RunOptions()
        guard (try? options.append(spellings[spellings.count - 1], value)) != nil else { return }
        let passed = options.arguments
        if ["--read", "--write", "--hide"].contains(spellings[0]) {
            require(passed.count == 2 && passed[0] == spellings[0] && passed[1].hasPrefix("/")
                        && FilePath.resolved(passed[1]) == passed[1] && FilePath.resolved(value) == passed[1],
                    "\(spellings[0]) \(value.debugDescription) became \(passed)")
        } else {
            require(passed == [spellings[0], value], "\(spellings[0]) \(value.debugDescription) became \(passed)")
        }
    }

    /// A size written as systemd writes it reads back within the tenth it rounds away.
    static func byteCount(_ bytes: [UInt8]) {
        let count = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let text = ByteCount.format(count)
        let parsed = SystemdSyntax.bytes(text)
        require(parsed.map { $0 <= count && count - $0 <= count / 10 } == true, "\(count) is written \(text), read back as \(String(describing: parsed))")
    }
}
#endif
