internal import CSystemdShim
internal import Glibc

/// One Landlock path rule, as the spawn shim takes it (cs_path_rule).
struct PathRule: Sendable, Equatable {
    var path: String
    var access: UInt64
    /// A path of what a process needs to run, skipped when it does not exist.
    var optional = false
}

extension ServerConfiguration {
    /// The sandbox the server gets, its preset worked in (the paths as given, not yet resolved): what `corral check`
    /// reports.
    public var effectiveSandbox: Sandbox {
        let uid = user.flatMap { try? Isolation.user($0).uid } ?? getuid()
        return effectiveSandbox(environment: environmentStrings(), uid: uid)
    }

    func effectiveSandbox(environment: [String], uid: uid_t) -> Sandbox {
        sandbox.expanded(home: Isolation.home(environment, uid: uid), workingDirectory: workingDirectory ?? FilePath.current,
                         exists: { access($0, F_OK) == 0 })
    }
}

extension Isolation {
    /// Works out `configuration.sandbox` for a server whose resolved executable is `executable`: the paths to cover,
    /// the Landlock rules, the network namespace. `namespaces` says whether the server gets its mount namespace;
    /// `abi` is the kernel's Landlock ABI. What the host cannot enforce is refused (exit 69), or with
    /// `--best-effort` dropped and said through the warning handler. A missing path is refused (exit 66).
    mutating func sandbox(_ configuration: ServerConfiguration, executable: String, environment: [String],
                          namespaces: Bool, abi: Int) throws(CorralError) {
        guard !configuration.sandbox.isEmpty else { return }
        let sandbox = configuration.effectiveSandbox(environment: environment, uid: uid)
        let name = (try? configuration.serverName().rawValue) ?? configuration.executable
        func refuse(_ gap: String) throws(CorralError) {
            guard sandbox.bestEffort else {
                throw CorralError(.unsupportedHost, "cannot enforce the sandbox asked for: \(gap); give --best-effort to start without it", stage: "landlock")
            }
            configuration.warningHandler("server '\(name)' starts without part of its sandbox (--best-effort): \(gap)")
        }
        if !namespaces && (!sandbox.hidden.isEmpty || sandbox.network != .host) {
            try refuse("--hide and --network \(sandbox.network == .host ? "loopback|none" : sandbox.network.rawValue) need the server's own mount and network namespaces, which this host does not allow")
        } else {
            covers = try sandbox.hidden.map { path throws(CorralError) in try Self.cover(path) }
            if sandbox.network != .host {
                flags |= UInt32(CS_CONTAIN_NETWORK.rawValue)
                if sandbox.network == .loopback { flags |= UInt32(CS_CONTAIN_LOOPBACK.rawValue) }
            }
        }
        let readable = try sandbox.readable.map { path throws(CorralError) in try Self.existing(path, "--read") }
        let writable = try sandbox.writable.map { path throws(CorralError) in try Self.existing(path, "--write") }
        refusesTruncation = (1..<3).contains(abi) && sandbox.restrictsFiles && configuration.seccomp?.refusingTruncation() != nil
        for gap in LandlockAccess.gaps(of: sandbox, abi: abi, truncationBySeccomp: refusesTruncation) { try refuse(gap) }
        guard abi >= 1 else { return }
        flags |= UInt32(CS_CONTAIN_LANDLOCK.rawValue)
        if sandbox.restrictsFiles {
            landlockFileSystem = LandlockAccess.fileSystem(abi: abi)
            pathRules = Self.runtimePaths(executable: executable, environment: environment)
                + readable.map { PathRule(path: $0, access: LandlockAccess.read) }
                + writable.map { PathRule(path: $0, access: LandlockAccess.write) }
        } else {
            landlockFileSystem = LandlockAccess.domainOnly
        }
        if abi >= 4 {
            if !sandbox.connectPorts.isEmpty { landlockNetwork |= LandlockAccess.connectTCP }
            if !sandbox.bindPorts.isEmpty { landlockNetwork |= LandlockAccess.bindTCP }
            portRules = sandbox.connectPorts.map { (UInt64($0), LandlockAccess.connectTCP) }
                + sandbox.bindPorts.map { (UInt64($0), LandlockAccess.bindTCP) }
        }
    }

    /// The home directory presets hide credentials in: the server's HOME, else (and always for a server started
    /// as another user, `uid`) the passwd entry's.
    static func home(_ environment: [String], uid: uid_t) -> String? {
        if uid == getuid(), let home = environment.last(where: { $0.hasPrefix("HOME=") }).map({ String($0.dropFirst(5)) }),
           !home.isEmpty {
            return home
        }
        return UserAccount.home(of: uid)
    }

    /// `path` resolved as the kernel will see it (symlinks and .. followed), or the error naming `option`.
    static func existing(_ path: String, _ option: String) throws(CorralError) -> String {
        guard !path.isEmpty else { throw .invalid(option, path, "expected a path") }
        guard let resolved = FilePath.resolved(path) else {
            let error = Glibc.errno
            throw CorralError(.inputUnavailable, "\(option) '\(path)': \(errnoText(error)); give a path that exists (symbolic links and .. in it are followed)", stage: "realpath", errno: error)
        }
        return resolved
    }

    /// The cover for `--hide path`: an empty read-only directory over a directory, /dev/null over anything else.
    static func cover(_ path: String) throws(CorralError) -> (path: String, directory: Bool) {
        let resolved = try existing(path, "--hide")
        guard resolved != "/" else { throw .invalid("--hide", path, "the root directory cannot be hidden") }
        var info = stat()
        guard stat(resolved, &info) == 0 else {
            throw CorralError(.inputUnavailable, "--hide '\(path)': \(errnoText(Glibc.errno))", stage: "stat", errno: Glibc.errno)
        }
        return (resolved, info.st_mode & S_IFMT == S_IFDIR)
    }

    /// What any process needs to run, readable (and executable): the system's directories, /proc and /sys, where
    /// /etc/resolv.conf leads; the harmless devices; the temp directory (TMPDIR, else /tmp), writable; and the command itself: its file, the
    /// prefix it is installed in (the parent of a `bin` directory: a virtual environment, /opt/NAME, ~/.local),
    /// its script interpreter (`#!`, through env on the server's PATH) and where their libraries are found
    /// (`LibraryDirectories`: RUNPATH, LD_LIBRARY_PATH, ld.so.conf).
    static func runtimePaths(executable: String, environment: [String]) -> [PathRule] {
        var rules = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc", "/sys"]
            .map { PathRule(path: $0, access: LandlockAccess.read, optional: true) }
        // resolv.conf is often a link out of /etc (systemd-resolved's stub in /run): without it no name resolves.
        if let resolver = FilePath.resolved("/etc/resolv.conf"), !resolver.hasPrefix("/etc/") {
            rules.append(PathRule(path: resolver, access: LandlockAccess.read, optional: true))
        }
        rules += ["/dev/null", "/dev/zero", "/dev/full"].map { PathRule(path: $0, access: LandlockAccess.device, optional: true) }
        rules += ["/dev/random", "/dev/urandom"].map { PathRule(path: $0, access: LandlockAccess.readFile, optional: true) }
        let variable = environment.last { $0.hasPrefix("TMPDIR=") }.map { String($0.dropFirst("TMPDIR=".count)) }
        rules.append(PathRule(path: variable.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp", access: LandlockAccess.write, optional: true))
        let searchPath = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
        var programs = [executable]
        if let interpreter = interpreter(of: executable, searchPath: searchPath) { programs.append(interpreter) }
        for program in programs {
            for path in [program, FilePath.resolved(program)].compactMap({ $0 }) {
                rules.append(PathRule(path: path, access: LandlockAccess.read, optional: true))
                let directory = FilePath.parent(of: path)
                if directory.hasSuffix("/bin"), FilePath.parent(of: directory) != "/" {
                    rules.append(PathRule(path: FilePath.parent(of: directory), access: LandlockAccess.read, optional: true))
                }
            }
            for directory in LibraryDirectories.of(program, environment: environment) {
                rules.append(PathRule(path: directory, access: LandlockAccess.read, optional: true))
            }
        }
        var seen = Set<String>()
        return rules.filter { seen.insert($0.path).inserted }
    }

    /// The interpreter a script's `#!` line names; for `#!/usr/bin/env [-S] NAME`, NAME found on `searchPath`.
    static func interpreter(of script: String, searchPath: String?) -> String? {
        guard let text = FileText.read(script, atMost: 256), text.hasPrefix("#!") else { return nil }
        let line = text.prefix { $0 != "\n" }
        let words = line.dropFirst(2).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { return nil }
        guard first.hasSuffix("/env") else { return first }
        guard let name = words.dropFirst().first(where: { !$0.hasPrefix("-") }) else { return nil }
        return try? Executable.resolve(name, path: searchPath)
    }

}
