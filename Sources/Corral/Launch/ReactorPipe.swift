import Synchronization

/// One owner's pipe end that the reactor reads or writes, and closes once. Descriptor numbers are reused as soon as
/// they are closed, so whether this end is still open is asked of this object, never of the number: a late check by
/// number would close or write to another server's pipe (or any file the embedding process opened since).
package final class ReactorPipe: Sendable {
    package let fd: Int32
    private let state = Mutex<(claimed: Bool, closing: Bool, closed: Bool)>((false, false, false))

    package init(_ fd: Int32) { self.fd = fd }

    /// Takes the pipe for one reader; false when it was taken before.
    func claim() -> Bool { state.withLock { state in defer { state.claimed = true }; return !state.claimed } }

    /// Whether a close was asked for: nothing may be queued for writing after it.
    var isClosing: Bool { state.withLock { $0.closing } }

    /// Asks for the close; false when it was asked for before.
    func markClosing() -> Bool { state.withLock { state in defer { state.closing = true }; return !state.closing } }

    /// Records the close about to happen; false when it happened before (the caller must then not close).
    func markClosed() -> Bool { state.withLock { state in defer { state.closed = true }; return !state.closed } }
}
