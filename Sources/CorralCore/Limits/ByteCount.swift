/// Sizes written the way systemd writes them: 512B, 1.5K, 300M, 1G.
public enum ByteCount {
    /// `bytes` with a binary suffix and at most one decimal, as systemd's format_bytes.
    public static func format(_ bytes: UInt64) -> String {
        let suffixes: [(String, UInt64)] = [("E", 1 << 60), ("P", 1 << 50), ("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]
        for (suffix, unit) in suffixes where bytes >= unit {
            let tenths = (bytes % unit) * 10 / unit
            return "\(bytes / unit)" + (tenths > 0 ? ".\(tenths)" : "") + suffix
        }
        return "\(bytes)B"
    }
}
