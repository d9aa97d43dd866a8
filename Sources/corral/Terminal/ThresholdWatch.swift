import Corral

/// Warns once when a server's memory or tasks cross a threshold below their limits (`--warn-memory`,
/// `--warn-tasks`): early enough to act before an OOM kill or refused forks.
struct ThresholdWatch: Sendable {
    /// A threshold: an absolute amount, or a share (permyriad) of the server's limit.
    enum Level: Sendable, Equatable {
        case absolute(UInt64)
        case shareOfLimit(UInt64)
        case off

        /// Parses `512M` / `200` (absolute), `80%` (of the limit) or `off`.
        init(_ text: String, field: String, memory: Bool) throws(CorralError) {
            if text == "off" {
                self = .off
            } else if let share = Limits.permyriad(text) {
                self = .shareOfLimit(share)
            } else if memory, case .bytes(let bytes) = try Limits.Memory(text, field: field) {
                self = .absolute(bytes)
            } else if !memory, let count = UInt64(text) {
                self = .absolute(count)
            } else {
                throw .invalid(field, text, memory ? "expected a size such as 400M, a percentage of --memory-max such as 80%, or off"
                                                        : "expected a number of tasks, a percentage of --tasks-max such as 80%, or off")
            }
        }

        func value(limit: UInt64?) -> UInt64? {
            switch self {
            case .absolute(let value): value
            case .shareOfLimit(let share): limit.map { $0 / 10_000 * share + $0 % 10_000 * share / 10_000 }
            case .off: nil
            }
        }
    }

    var memory = Level.shareOfLimit(8_000)
    var tasks = Level.shareOfLimit(8_000)

    /// Polls the server's usage once a second (from a second after the start: not on the launch path) until it
    /// ends; each threshold warns at most once.
    func watch(_ server: ServerProcess) -> Task<Void, Never> {
        Task.detached {
            var memoryWarned = false, tasksWarned = false
            while !(memoryWarned && tasksWarned) {
                try? await Task.sleep(for: .seconds(1))
                guard server.termination == nil, let usage = server.usage() else { return }
                if !memoryWarned, let threshold = memory.value(limit: usage.memoryMax), usage.memoryCurrent >= threshold {
                    memoryWarned = true
                    Events.report(.memoryThreshold(server, usage: usage, threshold: threshold))
                }
                if !tasksWarned, let threshold = tasks.value(limit: usage.tasksMax), usage.tasksCurrent >= threshold {
                    tasksWarned = true
                    Events.report(.tasksThreshold(server, usage: usage, threshold: threshold))
                }
            }
        }
    }
}
