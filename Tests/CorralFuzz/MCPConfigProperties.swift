#if CORRAL_FUZZ
import Corral

/// For any document: wrap and unwrap accept or refuse it alike; wrapping twice changes nothing; and unwrap(wrap(x))
/// is x when nothing in x ran under corral already, with or without run options and a --corral path.
///
/// One shape is excluded, by design: wrap marks a server without "args" by putting the new "args" in front of
/// "command", so an explicit "args": [] in front of "command" comes back absent (`corral unwrap` restores such a
/// file byte for byte from its backup instead).
enum MCPConfigProperties {
    static let withOptions: MCPConfig.RunOptions = {
        var options = MCPConfig.RunOptions()
        try? options.append("--memory-max", "512M")
        try? options.append("-p", "MemoryHigh=400M")
        return options
    }()

    static func check(_ bytes: [UInt8]) {
        guard let document = try? JSON(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
        for (corral, options) in [("corral", MCPConfig.RunOptions()), ("/opt/bin/corral-1", withOptions)] {
            let wrapped = try? MCPConfig.wrap(document, corral: corral, options: options)
            let unwrapped = try? MCPConfig.unwrap(document, corral: corral)
            require((wrapped == nil) == (unwrapped == nil), "wrap and unwrap disagree on whether this is a configuration")
            guard let wrapped, let unwrapped else { continue }
            let again = try? MCPConfig.wrap(wrapped.document, corral: corral, options: options)
            require(again?.changed == false, "wrapping twice changed \(again?.changes ?? [])")
            guard !unwrapped.changed, !hasEmptyArgumentsFirst(document) else { continue }
            let restored = try? MCPConfig.unwrap(wrapped.document, corral: corral)
            require(restored?.document == document,
                    "unwrap(wrap(x)) is not x:\n\(document.compactText)\n\(restored?.document.compactText ?? "nil")")
        }
    }

    /// Whether a server has "args": [] in front of its "command" (the excluded shape).
    static func hasEmptyArgumentsFirst(_ document: JSON) -> Bool {
        let servers = [document["mcpServers"], document["mcp"]?["servers"]].compactMap { $0 }
        return servers.contains { section in
            guard case .object(let entries) = section else { return false }
            return entries.contains { entry in
                guard case .object(let members) = entry.value,
                      let args = members.lastIndex(where: { $0.key == "args" }),
                      let command = members.lastIndex(where: { $0.key == "command" }) else { return false }
                return args < command && members[args].value == .array([])
            }
        }
    }
}
#endif
