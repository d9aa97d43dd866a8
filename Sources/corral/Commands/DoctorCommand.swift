import Corral
internal import Glibc

/// `corral doctor`: would this host survive a runaway MCP server? Each finding has a severity, the evidence read,
/// and the exact fix.
enum DoctorCommand {
    struct Options: ManagerCommandOptions {
        var manager = SystemdBus.Manager.automatic
        var gateway: String?
        var json = false
        var strict = false
        var slice = "corral.slice"
    }

    static let spec = CommandSpec<Options>(
        name: "doctor",
        abstract: "audit the host's own guardrails: cgroups, the gateway's limits, OOM order, swap, seccomp",
        synopsis: "corral doctor [--system|--user] [--gateway UNIT] [--slice SLICE] [--strict] [--json]",
        discussion: """
            Containing each MCP server is half of what keeps a host alive; the other half is the host. doctor
            checks, and says for each finding how severe it is, what it read, and the exact fix:
              - cgroup v2 with the memory, pids and cpu controllers (for a user: delegated to their manager);
              - Corral's slice and its aggregate limits;
              - the gateway's unit (--gateway, or the service corral was started from): MemoryHigh, MemoryMax,
                TasksMax, OOMPolicy, OOMScoreAdjust and KillMode;
              - whether the kernel would pick sshd or systemd-logind before the gateway or the MCP servers;
              - swap, the machine's memory, systemd-oomd;
              - seccomp and no_new_privs; that the user manager is reachable.
            """,
        options: ManagerOptions.options() + [
            Option(["--gateway"], value: "UNIT", help: """
                The gateway's service unit. Default: the service that started corral, if it was started by one.
                A unit that does not exist is a severe finding.
                """) { options, value throws(CorralError) in
                    let unit = value.contains(".") ? value : value + ".service"
                    // systemd's unit_name_is_valid, for the characters: a name with spaces is a typo, not a unit.
                    guard unit.utf8.count <= 255, let dot = unit.lastIndex(of: "."), dot != unit.startIndex,
                          unit.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ":_.\\@-".contains($0)) })
                    else { throw .invalid("--gateway", value, "expected a unit name such as openclaw-gateway.service") }
                    options.gateway = unit
                },
            Option(["--slice"], value: "SLICE", help: "Corral's slice. Default: corral.slice.") { options, value throws(CorralError) in
                try SliceName.validate(value, field: "--slice")
                options.slice = value
            },
            Option(["--strict"], help: """
                Fail (exit 1) on warnings too, not only on severe findings: for a deployment script or CI that
                must refuse a host with any known weakness.
                """) { options, _ in options.strict = true },
            Option(["--json"], help: "Print the findings as a JSON array on stdout.") { options, _ in options.json = true },
        ],
        takesCommand: false,
        footer: """
            EXIT STATUS
                0 when no finding is severe (with --strict: none is a warning either); 1 when one is, so doctor
                can gate a deployment script; 64 usage (an unknown option, a malformed unit name).
                An unguarded gateway (no MemoryMax) on a host without swap, and a --gateway unit that does not
                exist, are severe.

            EXAMPLES
                corral doctor --gateway openclaw-gateway.service
                corral doctor --user --json
                corral doctor --strict --gateway openclaw-gateway.service || exit 1
            """
    )

    static func main(_ arguments: [String]) async -> Int32 {
        var options = Options()
        do throws(CorralError) {
            guard try spec.parseOptionsOnly(arguments, into: &options) else { return 0 }
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
        let findings = await HostAudit(manager: options.manager, slice: options.slice, gateway: options.gateway).run()
        if options.json {
            Console.output(JSON.array(findings.map(\.json)).prettyText() + "\n")
        } else {
            for finding in findings { Console.output(finding.text) }
            let severe = findings.filter { $0.severity == .severe }.count
            let warnings = findings.filter { $0.severity == .warning }.count
            Console.output("\(findings.count) checks: \(severe) severe, \(warnings) warning(s)\n")
        }
        let failing: Finding.Severity = options.strict ? .warning : .severe
        return findings.contains { $0.severity >= failing } ? 1 : 0
    }
}
