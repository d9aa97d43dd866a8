internal import Glibc

/// Which systemd manager a server's scope belongs to (also `SystemdBus.Manager`).
public enum ServiceManager: String, Sendable, Equatable {
    /// PID 1, over /run/systemd/private (root) or the system bus.
    case system
    /// The caller's `systemd --user`, found even without XDG_RUNTIME_DIR or DBUS_SESSION_BUS_ADDRESS.
    case user

    /// The system manager for root, the user manager for everyone else.
    public static var automatic: ServiceManager { geteuid() == 0 ? .system : .user }
}
