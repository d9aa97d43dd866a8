/// Landlock's access rights and what each ABI version enforces (linux/landlock.h; landlock(7)), as the spawn shim
/// takes them: a ruleset handles some rights (refusing them unless a rule allows them) and each rule allows some.
public enum LandlockAccess {
    /// Execute a file (LANDLOCK_ACCESS_FS_EXECUTE).
    public static let execute: UInt64 = 1 << 0
    /// Open a file for writing (LANDLOCK_ACCESS_FS_WRITE_FILE).
    public static let writeFile: UInt64 = 1 << 1
    /// Open a file for reading (LANDLOCK_ACCESS_FS_READ_FILE).
    public static let readFile: UInt64 = 1 << 2
    /// List a directory (LANDLOCK_ACCESS_FS_READ_DIR).
    public static let readDirectory: UInt64 = 1 << 3
    /// Make a character device (LANDLOCK_ACCESS_FS_MAKE_CHAR).
    public static let makeCharacterDevice: UInt64 = 1 << 6
    /// Make a block device (LANDLOCK_ACCESS_FS_MAKE_BLOCK).
    public static let makeBlockDevice: UInt64 = 1 << 11
    /// Rename and link across directories (ABI 2; before it they are always refused).
    public static let refer: UInt64 = 1 << 13
    /// truncate(2), ftruncate and O_TRUNC (ABI 3; before it they are never refused).
    public static let truncate: UInt64 = 1 << 14
    /// ioctl on a device file (ABI 5).
    public static let ioctlDevice: UInt64 = 1 << 15

    /// Bind a TCP socket to a port (LANDLOCK_ACCESS_NET_BIND_TCP, ABI 4).
    public static let bindTCP: UInt64 = 1 << 0
    /// Connect a TCP socket to a port (LANDLOCK_ACCESS_NET_CONNECT_TCP, ABI 4).
    public static let connectTCP: UInt64 = 1 << 1

    /// What `--read` allows: read files and directories, execute.
    public static let read = execute | readFile | readDirectory
    /// What `--write` allows: everything (ABI 1's thirteen rights and the later ones).
    public static let write: UInt64 = (1 << 16) - 1
    /// What a device such as /dev/null needs: read and write it, `> /dev/null` (O_TRUNC), ioctl.
    public static let device = readFile | writeFile | truncate | ioctlDevice

    /// The filesystem rights ABI `abi` handles: all of them as of that version (0 without Landlock).
    public static func fileSystem(abi: Int) -> UInt64 {
        switch abi {
        case ...0: 0
        case 1: (1 << 13) - 1
        case 2: (1 << 14) - 1
        case 3, 4: (1 << 15) - 1
        default: (1 << 16) - 1
        }
    }

    /// The rights of a ruleset that restricts no file access but still makes a Landlock domain (which keeps a
    /// server from the /proc/PID/root and /proc/PID/cwd of processes outside it, whatever their user): making
    /// device nodes, which an unprivileged process cannot do anyway.
    public static let domainOnly = makeCharacterDevice | makeBlockDevice

    /// What ABI `abi` cannot enforce of `sandbox`, one sentence each (empty: all of it), for the refusal without
    /// `--best-effort` and the warning with it. Hiding (a mount) needs a domain too: without one a server reaches
    /// a hidden path through /proc/PID/root of its user's other processes. `truncationBySeccomp`: the server's
    /// seccomp filter refuses truncation instead (`SeccompProfile.refusingTruncation`), where Landlock cannot.
    public static func gaps(of sandbox: Sandbox, abi: Int, truncationBySeccomp: Bool = false) -> [String] {
        var gaps: [String] = []
        if abi < 1 {
            if sandbox.restrictsFiles {
                gaps.append("--read and --write need Landlock, which this kernel does not offer (Linux 5.13 or later with landlock in the lsm= list)")
            }
            if !sandbox.hidden.isEmpty {
                gaps.append("--hide needs Landlock too, which this kernel does not offer: without it a server can reach a hidden path through /proc/PID/root of its user's other processes")
            }
        } else if abi < 3 && sandbox.restrictsFiles && !truncationBySeccomp {
            gaps.append("this kernel's Landlock (ABI \(abi)) cannot refuse truncation (Linux 6.2, ABI 3), and the seccomp profile cannot refuse it either (it is off, or has its own rules for truncate and open): a server could empty any file its user may write, outside --write too")
        }
        if abi < 4 && !(sandbox.connectPorts.isEmpty && sandbox.bindPorts.isEmpty) {
            gaps.append("--connect and --bind need Landlock TCP rules (Linux 6.7, ABI 4); this kernel has \(abi < 1 ? "no Landlock" : "ABI \(abi)")")
        }
        return gaps
    }
}
