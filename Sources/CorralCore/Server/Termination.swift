/// How a server ended, and why.
public struct Termination: Sendable, Equatable, CustomStringConvertible {
    /// What waitid(2) said about the server's main process.
    public enum Status: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
        /// The status is lost: the embedding process ignores SIGCHLD (so the kernel reaped the server) or reaped it
        /// itself (`waitpid(-1)`). The reason still comes from the scope's cgroup; `exitCode` is 255.
        case unknown
    }

    /// Why it ended, as far as its scope's cgroup can tell.
    public enum Reason: String, Sendable, Equatable {
        /// It exited or was signaled on its own.
        case exited
        /// The kernel OOM-killed a process of the scope at its memory limit.
        case oomKilled = "oom-killed"
        /// It hit its tasks limit (forks failed) and then ended.
        case tasksLimit = "tasks-limit"
        /// `stop(grace:)` (or `corral stop`) ended it.
        case stopped
    }

    public var status: Status
    public var reason: Reason
    /// The scope's counters and peaks as last read before it was removed.
    public var usage: Usage?

    package init(status: Status, reason: Reason, usage: Usage? = nil) {
        self.status = status
        self.reason = reason
        self.usage = usage
    }

    /// The exit status a shell would report: the code, or 128 + the signal.
    public var exitCode: Int32 {
        switch status {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        case .unknown: 255
        }
    }

    public var description: String {
        let how = switch status {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by signal \(signal) (\(signalName(signal)))"
        case .unknown: "ended with an unknown status (reaped by someone else)"
        }
        switch reason {
        case .exited: return how
        case .oomKilled: return "\(how) after an OOM kill at its memory limit"
        case .tasksLimit: return "\(how) after hitting its tasks limit"
        case .stopped: return "\(how) when stopped"
        }
    }
}

/// The conventional name of a signal ("SIGTERM").
func signalName(_ signal: Int32) -> String {
    let names = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
                 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM",
                 15: "SIGTERM", 31: "SIGSYS"]
    return names[Int(signal)] ?? "signal \(signal)"
}
