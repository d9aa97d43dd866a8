internal import Glibc

/// Finds the file a command name means, before anything is started: a missing or unusable command must cost no scope.
enum Executable {
    /// The path `command` resolves to: itself when it contains a slash, else the first executable match on `path`.
    static func resolve(_ command: String, path: String?) throws(CorralError) -> String {
        guard !command.isEmpty else { throw CorralError(.commandNotFound, "command not found: the command is empty ('')") }
        if command.contains("/") {
            try check(command)
            return command
        }
        var denied: String?
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + command
            do throws(CorralError) {
                try check(candidate)
                return candidate
            } catch where error.code == .commandNotExecutable {
                denied = denied ?? candidate
            } catch {}
        }
        if let denied { try check(denied) }
        throw CorralError(.commandNotFound, "command not found: '\(command)' is not on PATH (\(path ?? "unset"))",
                          stage: "execve", errno: ENOENT)
    }

    private static func check(_ file: String) throws(CorralError) {
        var info = stat()
        guard stat(file, &info) == 0 else {
            let error = Glibc.errno
            throw CorralError(error == ENOENT || error == ENOTDIR ? .commandNotFound : .commandNotExecutable,
                              "cannot run '\(file)': \(errnoText(error))", stage: "execve", errno: error)
        }
        guard info.st_mode & S_IFMT != S_IFDIR else {
            throw CorralError(.commandNotExecutable, "cannot run '\(file)': it is a directory", stage: "execve", errno: EACCES)
        }
        guard access(file, X_OK) == 0 else {
            let error = Glibc.errno
            throw CorralError(.commandNotExecutable, "cannot run '\(file)': \(errnoText(error))", stage: "execve", errno: error)
        }
    }
}
