internal import CSystemdShim
internal import Glibc

/// Passes SIGTERM, SIGINT and SIGHUP on to the server, as a gateway expects of the process it started. Such a stop
/// was asked for: it never counts as a failure of the server.
///
/// A signal the terminal generated (^C) already reached the server, which shares corral's process group, so it is
/// not sent twice. A second termination signal means "now": every process of the scope is killed at once.
package final class SignalForwarding: Sendable {
    private let descriptor: Int32

    /// Blocks the signals and opens a signalfd for them. Call before any thread starts: threads inherit the mask.
    package init?() {
        let fd = cs_signalfd([SIGTERM, SIGINT, SIGHUP, 0])
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    /// Starts forwarding to `server` (signals that arrived since `init` are forwarded now).
    package func forward(to server: ServerProcess) {
        let received = SignalCount()
        Reactor.shared.watch(descriptor, events: EPOLLIN.rawValue) { [descriptor] _ in
            var signal: Int32 = 0
            var fromKernel: Int32 = 0
            guard cs_signalfd_read(descriptor, &signal, &fromKernel) >= 0 else { return server.termination == nil }
            received.value += 1
            if received.value > 1 {
                Task { await server.stop(grace: .zero) }
            } else {
                // From the kernel (a terminal's ^C): the server, in corral's process group, already has it.
                server.requestStop(fromKernel == 0 ? signal : 0)
            }
            return server.termination == nil
        }
    }
}

/// How many signals arrived; touched only on the reactor thread, which runs every handler.
private final class SignalCount: @unchecked Sendable {
    var value = 0
}
