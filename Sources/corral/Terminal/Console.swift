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

    /// Lets go of this process's stdin and stdout (/dev/null takes their place) once the server has its own
    /// copies: the server's peer then sees its EOF and EPIPE as if corral were not there.
    static func handOverStandardInputAndOutput() {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { return }
        _ = dup2(null, 0)
        _ = dup2(null, 1)
        if null > 1 { close(null) }
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
