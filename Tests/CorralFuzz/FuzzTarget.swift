#if CORRAL_FUZZ
/// The parsers that are fuzzed, one per run. Each checks properties beyond "does not crash": what parses must write
/// back the same, round-trip, or be usable by everything that consumes it.
enum FuzzTarget: String, CaseIterable {
    /// JSON.swift: documents round-trip through the compact and the indented writer.
    case json
    /// Limits, SystemdSyntax, ByteCount and wrap's run options: values parse back from what they mean.
    case limits
    /// ServerName escaping and unit names, slice names.
    case names
    /// Docker / OCI seccomp profiles: what parses also compiles.
    case seccomp
    /// MCPConfig: wrap is idempotent and unwrap undoes it.
    case mcpconfig
    /// Guardrail and instance records as read from the state directory, and everything that formats them.
    case state

    /// Feeds one input to this target's parser and checks its properties; a violation traps, which libFuzzer
    /// reports with the input.
    func check(_ bytes: [UInt8]) {
        switch self {
        case .json: JSONProperties.check(bytes)
        case .limits: LimitProperties.check(bytes)
        case .names: NameProperties.check(bytes)
        case .seccomp: SeccompProperties.check(bytes)
        case .mcpconfig: MCPConfigProperties.check(bytes)
        case .state: StateProperties.check(bytes)
        }
    }
}

/// Traps with `message` when a property does not hold.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("property violated: " + message()) }
}
#endif
