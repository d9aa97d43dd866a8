/// Where cgroup v2 lives and how its text files read: the parsing half of `Cgroup`, with no descriptor of its own.
package enum CgroupFiles {
    /// The cgroup2 mount point.
    package static let root = "/sys/fs/cgroup"

    /// The cgroup of a process (`pid`, or "self") below `root`: the "0::" line of /proc/PID/cgroup; nil when the
    /// process is gone or not on cgroup v2.
    package static func membership(of process: String) -> String? {
        guard let text = FileText.read("/proc/\(process)/cgroup") else { return nil }
        return membership(inProcFile: text)
    }

    /// The path in the "0::PATH" line of a /proc/PID/cgroup text.
    package static func membership(inProcFile text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
    }

    /// A flat keyed file such as memory.events or cpu.stat, as "key value" lines.
    package static func keyed(_ text: String) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }
}
