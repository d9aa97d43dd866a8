extension Sandbox {
    /// A named sandbox that fits MCP servers (`--sandbox NAME`; `corral help sandbox` prints what each allows).
    public enum Preset: String, Sendable, Equatable, CaseIterable {
        /// Hides the usual credential folders and files and the MCP clients' configurations (which hold every
        /// other server's tokens); the server keeps its user's files and network otherwise.
        case `default`
        /// `default`, and read-only everything but the working directory and the temp directory, and
        /// `--network loopback` (unless `--network none`).
        case strict
    }

    /// Credentials in a home directory: keys, cloud and cluster logins, package registry and forge tokens. Folders
    /// rather than the files in them where a server has no use for the rest: a file replaced on the host after
    /// the server started (an atomic save) is no longer covered, a folder stays covered whatever happens in it.
    public static let credentialPaths = [
        ".ssh", ".gnupg", ".password-store", ".local/share/keyrings", ".aws", ".azure", ".config/gcloud", ".oci",
        ".kube", ".docker", ".netrc", ".git-credentials", ".config/gh", ".config/hub", ".npmrc",
        ".pypirc", ".cargo/credentials.toml", ".vault-token", ".terraform.d/credentials.tfrc.json",
    ]

    /// MCP clients' configurations and logins in a home directory.
    public static let clientConfigurationPaths = [
        ".config/Claude", ".claude.json", ".claude/.credentials.json", ".cursor", ".codex", ".gemini",
        ".openclaw", ".continue", ".config/Code/User/mcp.json",
    ]

    /// System files only root may read, which a root server without capabilities still owns.
    public static let systemSecretPaths = ["/etc/shadow", "/etc/gshadow", "/etc/sudoers"]

    /// The paths `preset` hides for a user whose home is `home`, all of them whether they exist or not.
    public static func hiddenPaths(of preset: Preset, home: String?) -> [String] {
        let inHome = home.map { home in
            (credentialPaths + clientConfigurationPaths).map { (home.hasSuffix("/") ? home : home + "/") + $0 }
        } ?? []
        return inHome + systemSecretPaths
    }

    /// This sandbox with its preset worked in: the preset's paths that `exists` says are there are hidden (missing
    /// ones are skipped, unlike a `--hide` given by hand); `strict` also reads `/`, writes `workingDirectory`
    /// (unless it is `/`) and takes the loopback network unless `none` was asked for.
    public func expanded(home: String?, workingDirectory: String, exists: (String) -> Bool) -> Sandbox {
        guard let preset else { return self }
        var sandbox = self
        sandbox.preset = nil
        for path in Self.hiddenPaths(of: preset, home: home) where exists(path) && !sandbox.hidden.contains(path) {
            sandbox.hidden.append(path)
        }
        if preset == .strict {
            sandbox.readable.append("/")
            // A working directory of / would make everything writable: then only the temp directory is.
            if workingDirectory != "/" { sandbox.writable.append(workingDirectory) }
            if sandbox.network == .host { sandbox.network = .loopback }
        }
        return sandbox
    }
}

extension Sandbox {
    /// What a server with this (expanded) sandbox may do, one phrase per aspect, for `corral check`'s report.
    public var summary: [String] {
        var phrases: [String] = []
        if restrictsFiles {
            phrases.append("reads only " + (readable + writable).joined(separator: ", ") + " and what it needs to run")
            phrases.append("writes only " + (writable + ["the temp directory"]).joined(separator: ", "))
        } else {
            phrases.append("reads and writes what its user may")
        }
        if !hidden.isEmpty { phrases.append("hidden: " + hidden.joined(separator: ", ")) }
        phrases.append("network \(network.rawValue)")
        if !connectPorts.isEmpty { phrases.append("TCP connect to " + connectPorts.map(String.init).joined(separator: ", ") + " only") }
        if !bindPorts.isEmpty { phrases.append("TCP bind to " + bindPorts.map(String.init).joined(separator: ", ") + " only") }
        return phrases
    }
}
