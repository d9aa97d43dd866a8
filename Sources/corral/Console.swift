internal import Glibc

/// Corral's own output: messages on stderr (stdout belongs to the server), data on stdout for the listing commands.
enum Console {
    /// Writes "corral: MESSAGE" to stderr.
    static func error(_ message: String) {
        write(2, "corral: " + message + "\n")
    }

    /// Writes "corral: warning: MESSAGE" to stderr.
    static func warning(_ message: String) {
        write(2, "corral: warning: " + message + "\n")
    }

    /// Writes `text` to stdout, for commands whose output is data (never `run`).
    static func output(_ text: String) {
        write(1, text)
    }

    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && Glibc.errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}
