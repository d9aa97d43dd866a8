internal import CSystemdShim
internal import Glibc

extension ProcessIdentity {
    /// Sends `signal` to this very process, never to one that has been given its PID since: the start time is
    /// compared after a pidfd is open, and a PID cannot be recycled while a pidfd holds it. A process recorded
    /// without its start time (by an older corral) is never signalled. Returns whether the signal was sent.
    public func signal(_ signal: Int32) -> Bool {
        guard pid > 0, let startTicks else { return false }
        let pidfd = cs_pidfd_open(pid)
        guard pidfd >= 0 else { return false }
        defer { close(pidfd) }
        guard Self.startTicks(of: pid) == startTicks else { return false }
        return cs_pidfd_send_signal(pidfd, signal) >= 0
    }
}
