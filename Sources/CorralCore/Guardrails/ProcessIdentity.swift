internal import Glibc

/// A process as a record names it: its PID and its start time (field 22 of /proc/PID/stat, clock ticks since boot).
/// A PID alone may have been recycled for an unrelated process; the pair names one process for the life of the boot.
public struct ProcessIdentity: Sendable, Equatable {
    public var pid: Int32
    /// nil in records written by a corral that did not store it: such a process can be told to exist, never to be
    /// the one recorded.
    public var startTicks: UInt64?

    public init(pid: Int32, startTicks: UInt64?) {
        self.pid = pid
        self.startTicks = startTicks
    }

    /// The process that has `pid` now, if one runs (zombies do not).
    public static func running(_ pid: Int32) -> ProcessIdentity? {
        guard pid > 0, let ticks = startTicks(of: pid) else { return nil }
        return ProcessIdentity(pid: pid, startTicks: ticks)
    }

    /// This process.
    public static let current = ProcessIdentity(pid: getpid(), startTicks: startTicks(of: getpid()))

    /// Whether this very process still runs: its PID has a live process that started when it did.
    public var isRunning: Bool {
        guard let startTicks else { return false }
        return Self.startTicks(of: pid) == startTicks
    }

    /// Whether some process has the PID (all a record without a start time can tell: maybe a recycled PID).
    public var pidIsTaken: Bool { pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) }

    /// The start time of the live (not zombie) process `pid`, from /proc/PID/stat.
    package static func startTicks(of pid: Int32) -> UInt64? {
        guard let text = FileText.read("/proc/\(pid)/stat", atMost: 4096) else { return nil }
        return startTicks(inStat: text)
    }

    /// Field 22 of a /proc/PID/stat text, nil for a zombie or dead process (state Z or X) or a malformed text. The
    /// command (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    package static func startTicks(inStat text: String) -> UInt64? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return UInt64(fields[19])
    }
}
