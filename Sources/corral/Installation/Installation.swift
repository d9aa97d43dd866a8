import Corral
internal import Glibc

/// What `corral install` puts where, for everyone (the system manager) or for one user (their manager), and what
/// `corral uninstall` may take away again.
struct Installation {
    /// The options install and uninstall share.
    struct Options {
        var manager = SystemdBus.Manager.automatic
        var prefix: String?
        var printManual = false

        static let shared: [Option<Options>] = [
            Option(["--system"], excludes: ["--user"], help: """
                For everyone: PREFIX is /usr/local unless given, the slice unit is
                /etc/systemd/system/corral.slice, and the system manager reloads. The default for root.
                """) { options, _ in options.manager = .system },
            Option(["--user"], excludes: ["--system"], help: """
                For the calling user: PREFIX is ~/.local unless given, the slice unit is
                ~/.config/systemd/user/corral.slice (or under $XDG_CONFIG_HOME), and the user's manager reloads.
                The default for everyone else.
                """) { options, _ in options.manager = .user },
            Option(["--prefix"], value: "DIR", help: """
                Where the binary (DIR/bin), the man page (DIR/share/man) and the completions (DIR/share) go.
                The slice always goes where the manager reads unit files.
                """) { options, value throws(CorralError) in
                guard value.hasPrefix("/") else { throw .invalid("--prefix", value, "expected an absolute directory") }
                var prefix = value
                while prefix.hasSuffix("/") { prefix.removeLast() }
                options.prefix = prefix
            },
        ]
    }

    /// One installed file and what goes in it.
    struct File {
        enum Content {
            /// A copy of the file at this path.
            case copy(String)
            case text(String)
        }

        var path: String
        var mode: UInt32
        var content: Content
    }

    /// The first line of a slice unit `corral install` wrote; `corral uninstall` removes no slice without it.
    static let sliceMarker = "# Written by `corral install`; `corral uninstall` removes this file, and only with this line."

    let manager: SystemdBus.Manager
    let prefix: String
    /// The slice's unit file.
    let slice: String

    init(_ options: Options) throws(CorralError) {
        manager = options.manager
        switch manager {
        case .system:
            prefix = options.prefix ?? "/usr/local"
            slice = "/etc/systemd/system/" + ServerSlice.defaultName
        case .user:
            let home = try Self.home()
            let config = Self.absoluteEnvironment("XDG_CONFIG_HOME") ?? home + "/.config"
            prefix = options.prefix ?? home + "/.local"
            slice = config + "/systemd/user/" + ServerSlice.defaultName
        }
    }

    /// The binary, the man page and the completions (the slice aside, which needs its own care).
    var files: [File] {
        let commands = CorralCommand.commands
        return [
            File(path: prefix + "/bin/corral", mode: 0o755, content: .copy("/proc/self/exe")),
            File(path: prefix + "/share/man/man1/corral.1", mode: 0o644, content: .text(Manual.page)),
            File(path: prefix + "/share/bash-completion/completions/corral", mode: 0o644, content: .text(Completions.bash(commands))),
            File(path: prefix + "/share/zsh/site-functions/_corral", mode: 0o644, content: .text(Completions.zsh(commands))),
            File(path: prefix + "/share/fish/vendor_completions.d/corral.fish", mode: 0o644, content: .text(Completions.fish(commands))),
        ]
    }

    /// The slice unit install writes.
    var sliceFile: File {
        File(path: slice, mode: 0o644, content: .text(ServerSlice.unitFile(header: Self.sliceMarker)))
    }

    /// Whether the slice's unit file is there and was written by `corral install`: nil when there is none.
    var sliceIsOurs: Bool? {
        guard access(slice, F_OK) == 0 else { return nil }
        return FileText.trimmed(slice)?.split(separator: "\n").first.map(String.init) == Self.sliceMarker
    }

    /// Where install records what it wrote, so that uninstall removes exactly that: a line per file, its identity
    /// (device, inode, size, modification time) and its path. A file replaced or edited since is not corral's to
    /// remove any more (a distribution's /usr/bin/corral, a slice edited with `systemctl edit --full`).
    var manifest: String { prefix + "/share/corral/installed" }

    /// The identity of the file at `path` as the manifest records it; nil when there is none.
    static func identity(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// Records the files install wrote.
    func recordInstalled(_ paths: [String]) throws(CorralError) {
        let lines = paths.compactMap { path in Self.identity(path).map { "\($0) \(path)\n" } }
        try write(File(path: manifest, mode: 0o644, content: .text(lines.joined())))
    }

    /// What the manifest says install wrote, with each file's identity then; nil when there is no manifest.
    func installed() -> [(identity: String, path: String)]? {
        guard let text = FileText.trimmed(manifest) else { return nil }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }

    /// Whether PREFIX/bin is on PATH, so that `corral` finds the installed binary.
    var binaryDirectoryIsOnPath: Bool {
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        return path.split(separator: ":").contains { $0 == prefix + "/bin" }
    }

    /// Writes a file whole, creating its directory. Permission denied for --system says how to go on.
    func write(_ file: File) throws(CorralError) {
        do throws(CorralError) {
            if let slash = file.path.lastIndex(of: "/"), slash != file.path.startIndex {
                try AtomicFile.makeDirectories(String(file.path[..<slash]))
            }
            switch file.content {
            case .copy(let source): try AtomicFile.copy(source, to: file.path, mode: file.mode)
            case .text(let text): try AtomicFile.write(text, to: file.path, mode: file.mode)
            }
        } catch where manager == .system && (error.errno == EACCES || error.errno == EPERM) {
            var denied = error
            denied.message += " (run it as root, or install for yourself with --user)"
            throw denied
        }
    }

    private static func home() throws(CorralError) -> String {
        if let home = absoluteEnvironment("HOME") { return home }
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else {
            throw CorralError(.invalidConfiguration, "no home directory for UID \(getuid()): set HOME")
        }
        return String(cString: directory)
    }

    private static func absoluteEnvironment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.hasPrefix("/") ? $0 : nil }
    }
}
