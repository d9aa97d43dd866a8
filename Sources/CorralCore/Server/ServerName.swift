/// A server's identity: what the operator calls it, and the scope unit names derived from it.
///
/// Any text is a valid name except an empty one, one with control characters (C0, DEL or C1), or one too long to
/// fit in a unit name once escaped. Unit names are `corral-<escaped name>-<8 hex digits>.scope`, escaped the way
/// systemd-escape does.
public struct ServerName: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    /// The name as systemd-escape writes it (`my-server` is `my\x2dserver`).
    public let escaped: String

    /// The longest escaped name accepted: keeps `corral-…-xxxxxxxx.scope` below systemd's 255 characters.
    public static let maximumEscapedLength = 200

    public init(_ name: String) throws(CorralError) {
        guard !name.isEmpty else { throw .invalid("server name", name, "a name cannot be empty") }
        // C0, DEL and C1 (U+0080-U+009F: "\u{9B}" starts a terminal escape sequence as ESC [ does).
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            let shown = name.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }
            throw .invalid("server name", shown.joined(), "a name cannot contain control characters")
        }
        let escaped = Self.escape(name)
        guard escaped.utf8.count <= Self.maximumEscapedLength else {
            throw .invalid("server name", String(name.prefix(40)) + "…",
                           "the name is \(escaped.utf8.count) characters once escaped for systemd; at most \(Self.maximumEscapedLength) fit in a unit name")
        }
        self.rawValue = name
        self.escaped = escaped
    }

    public var description: String { rawValue }

    /// The unit-name prefix every scope of this server has.
    public var unitPrefix: String { "corral-\(escaped)-" }

    /// A fresh, unique scope unit name for one instance of this server.
    public func newUnitName() -> String {
        var generator = SystemRandomNumberGenerator()
        let id = UInt32.random(in: .min ... .max, using: &generator)
        let hex = String(id, radix: 16)
        return unitPrefix + String(repeating: "0", count: 8 - hex.count) + hex + ".scope"
    }

    /// The server name encoded in a Corral scope unit name, or nil when the unit is not one of Corral's.
    public static func from(unit: String) -> ServerName? {
        guard unit.hasPrefix("corral-"), unit.hasSuffix(".scope") else { return nil }
        let core = unit.dropFirst("corral-".count).dropLast(".scope".count)
        guard let dash = core.lastIndex(of: "-"), core.distance(from: dash, to: core.endIndex) == 9 else { return nil }
        guard let raw = unescape(core[..<dash]) else { return nil }
        return try? ServerName(raw)
    }

    /// systemd's unit_name_escape: letters, digits, ':', '_' and '.' stay ('.' not first), '/' becomes '-', every
    /// other byte becomes `\xNN`.
    static func escape(_ text: String) -> String {
        var out = ""
        for (offset, byte) in text.utf8.enumerated() {
            let c = Character(Unicode.Scalar(byte))
            if byte == UInt8(ascii: "/") {
                out.append("-")
            } else if byte < 0x80 && (c.isLetter || c.isNumber || c == ":" || c == "_" || (c == "." && offset > 0)) {
                out.append(c)
            } else {
                let hex = String(byte, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    static func unescape(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var rest = text.utf8[...]
        while let byte = rest.first {
            if byte == UInt8(ascii: "\\") {
                guard rest.count >= 4, rest.dropFirst().first == UInt8(ascii: "x"),
                      let value = UInt8(String(decoding: rest.dropFirst(2).prefix(2), as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
                rest = rest.dropFirst(4)
            } else {
                bytes.append(byte == UInt8(ascii: "-") ? UInt8(ascii: "/") : byte)
                rest = rest.dropFirst()
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// A name derived from a command line: what it runs, then a digest of the whole command line, so that two
    /// different command lines never share guardrails or an instance cap and the same one always gets the same
    /// name. What it runs is the package a runner starts (`npx -y @scope/server-x` is `server-x`, `uvx
    /// mcp-server-time` is `mcp-server-time`, `python3 -m mcp_server_git` is `mcp_server_git`), the script an
    /// interpreter runs (`node gmail.js` is `gmail`), otherwise the executable's file name (`sh -c ...` is `sh`).
    public static func derived(from command: [String]) -> String {
        readableName(of: command) + "-" + digest(of: command)
    }

    private static func readableName(of command: [String]) -> String {
        guard let executable = command.first else { return "server" }
        let base = lastComponent(executable)
        let runners: Set = ["npx", "bunx", "pnpx", "uvx", "pipx", "deno", "bun", "yarn", "pnpm", "npm"]
        let interpreters: Set = ["node", "nodejs", "ruby", "perl", "php", "bash", "sh", "dash", "zsh", "ksh", "tsx",
                                 "ts-node", "lua", "Rscript"]
        let arguments = command.dropFirst()
        if base.hasPrefix("python"), let m = arguments.firstIndex(of: "-m"), m + 1 < command.endIndex {
            return command[m + 1]
        }
        if runners.contains(base),
           let package = arguments.first(where: { !$0.hasPrefix("-") && !["exec", "run", "dlx", "x"].contains($0) }) {
            var name = lastComponent(package)
            if let at = name.lastIndex(of: "@"), at != name.startIndex { name = String(name[..<at]) }
            if !name.isEmpty { return name }
        }
        // An interpreter's script: the first argument that is not an option (`sh -c CODE` runs no script).
        if interpreters.contains(base) || base.hasPrefix("python"), !arguments.contains("-c"), !arguments.contains("-e"),
           let script = arguments.first(where: { !$0.hasPrefix("-") }) {
            let file = lastComponent(script)
            let stem = file.lastIndex(of: ".").map { $0 == file.startIndex ? file : String(file[..<$0]) } ?? file
            if !stem.isEmpty { return stem }
        }
        return base.isEmpty ? "server" : base
    }

    /// Eight hex digits of FNV-1a over the command line's arguments, each ended by a NUL.
    private static func digest(of command: [String]) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in command.flatMap({ Array($0.utf8) + [UInt8(0)] }) {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    private static func lastComponent(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }
}
