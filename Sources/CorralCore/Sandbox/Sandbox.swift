/// What a server may see of the filesystem and the network (`--read`, `--write`, `--hide`, `--network`,
/// `--connect`, `--bind`). The default restricts nothing: the server sees what its user sees.
///
/// Files: once any `readable` or `writable` path is given, a Landlock ruleset lets the server read only those (and
/// what a process needs to run: the system directories, its command, the temp directory) and write only
/// `writable`; `hidden` paths are covered in its mount namespace, whatever Landlock allows. Network: `loopback`
/// and `none` give it a network namespace of its own; ports are Landlock TCP rules (Linux 6.7, ABI 4).
public struct Sandbox: Sendable, Equatable {
    /// Which network the server has.
    public enum Network: String, Sendable, Equatable, CaseIterable {
        /// The host's, unchanged.
        case host
        /// A network namespace of its own with only a loopback device, up: 127.0.0.1 and ::1 reach the server's
        /// own processes, never the host's.
        case loopback
        /// A network namespace of its own with only a loopback device, down: no address at all.
        case none
    }

    /// Paths the server may read (and execute) beneath, as given; resolved when the server starts.
    public var readable: [String] = []
    /// Paths the server may read and write beneath (create, remove, rename, link, truncate).
    public var writable: [String] = []
    /// Paths the server must not see: a directory becomes an empty read-only one, a file one that cannot be opened.
    public var hidden: [String] = []
    /// The network the server has (`--network`).
    public var network: Network = .host
    /// TCP ports the server may connect to; when empty, connect is not restricted.
    public var connectPorts: [UInt16] = []
    /// TCP ports the server may bind; when empty, bind is not restricted.
    public var bindPorts: [UInt16] = []
    /// Start with what the kernel can enforce, dropping (and saying) what it cannot, instead of refusing.
    public var bestEffort = false
    /// A preset worked in when the server starts (`expanded`), on top of the paths and ports above.
    public var preset: Preset?

    public init() {}

    /// Whether Landlock filesystem rules are asked for.
    public var restrictsFiles: Bool { !readable.isEmpty || !writable.isEmpty }

    /// Whether anything at all is asked for.
    public var isEmpty: Bool {
        !restrictsFiles && hidden.isEmpty && network == .host && connectPorts.isEmpty && bindPorts.isEmpty && preset == nil
    }

    /// A TCP port as `--connect` and `--bind` take it: 1 to 65535 (0 too for `--bind`: any port the kernel picks).
    public static func port(_ text: String, field: String) throws(CorralError) -> UInt16 {
        let lowest = field == "--bind" ? 0 : 1
        guard let number = Int(text), (lowest...65535).contains(number) else {
            throw .invalid(field, text, "expected a TCP port number from \(lowest) to 65535")
        }
        return UInt16(number)
    }

    /// A network mode as `--network` takes it.
    public static func network(_ text: String) throws(CorralError) -> Network {
        guard let mode = Network(rawValue: text) else {
            throw .invalid("--network", text, "expected host, loopback or none")
        }
        return mode
    }
}
