import Corral
internal import Glibc

/// Options of a command that starts a server.
protocol ServerCommandOptions: SendableMetatype {
    var server: ServerConfiguration { get set }
}

/// The options that describe a server and its containment, shared by `run` and `check`.
enum ServerOptions {
    static func options<T: ServerCommandOptions>() -> [Option<T>] {
        [
            Option(["--name"], value: "NAME", excludes: ["--name"], help: """
                The server's name, used in its unit name (corral-NAME-ID.scope, escaped like systemd-escape), in
                messages, in `corral ps` and for guardrail state. Default: derived from the command: what it runs
                (the package that npx or uvx starts, the module of python -m, the script an interpreter such as
                node runs, else the executable's file name) and 8 hex digits of the whole command line, so that
                different command lines never share backoff, breaker or instance cap (`node a.js` is a-1f2e3d4c,
                `node b.js` another). Give --name to keep one identity across changes of arguments.
                """) { options, value throws(CorralError) in
                    options.server.name = try ServerName(value).rawValue
                },
            Option(["--system"], excludes: ["--user"], help: "Talk to the system manager (the default for root).") { options, _ in
                options.server.manager = .system
            },
            Option(["--user"], excludes: ["--system"], help: "Talk to the calling user's manager (the default for everyone else).") { options, _ in
                options.server.manager = .user
            },
            Option(["--slice"], value: "SLICE", help: """
                The slice the scope goes in. Default: corral.slice, whose own limits bound all servers together.
                """) { options, value in options.server.slice = value },
            Option(["--memory-max"], value: "SIZE", help: """
                MemoryMax: the hard memory limit of the whole process tree; beyond it the kernel OOM-kills it.
                512M, 1.5G, 25% (of RAM) or infinity. Default: 1G.
                """) { options, value throws(CorralError) in
                    options.server.limits.memoryMax = try Limits.Memory(value, field: "--memory-max")
                },
            Option(["--memory-high"], value: "SIZE", help: """
                MemoryHigh: above this the tree is throttled and reclaimed hard. Default: none.
                """) { options, value throws(CorralError) in
                    options.server.limits.memoryHigh = try Limits.Memory(value, field: "--memory-high")
                },
            Option(["--memory-swap-max"], value: "SIZE", help: """
                MemorySwapMax: swap the tree may use. Default: 0, so a leak meets MemoryMax instead of thrashing.
                """) { options, value throws(CorralError) in
                    options.server.limits.memorySwapMax = try Limits.Memory(value, field: "--memory-swap-max")
                },
            Option(["--tasks-max"], value: "N", help: """
                TasksMax: processes and threads together; forks beyond it fail with EAGAIN. A number, a percentage
                of the system's limit, or infinity. Default: 256 (an npx -> npm -> sh -> node tree needs about 40).
                """) { options, value throws(CorralError) in
                    options.server.limits.tasksMax = try Limits.Tasks(value, field: "--tasks-max")
                },
            Option(["--cpu-quota"], value: "PERCENT", help: """
                CPUQuota: CPU time per wall-clock time, 100% being one CPU (200% two). Default: none. Rootless use
                needs the cpu controller delegated to the user manager.
                """) { options, value throws(CorralError) in
                    options.server.limits.cpuQuota = try Limits.cpuQuota(value, field: "--cpu-quota")
                },
            Option(["--runtime-max"], value: "TIME", help: """
                RuntimeMaxSec: systemd stops the scope after this long (30s, 5min, 1h 30min). Default: none.
                """) { options, value throws(CorralError) in
                    options.server.limits.runtimeMax = try Limits.timeSpan(value, field: "--runtime-max")
                },
            Option(["-p", "--property"], value: "NAME=VALUE", help: """
                Another scope property, as systemd-run -p takes it: MemoryMin, MemoryLow, CPUWeight, IOWeight,
                StartupCPUWeight, StartupIOWeight, OOMPolicy, Delegate, Description, the *Accounting switches, or
                any of the limits above by their systemd names. May be repeated.
                """) { options, value throws(CorralError) in
                    try options.server.limits.set(value)
                },
            Option(["--no-limits"], help: """
                Start without the default memory, swap and tasks limits (accounting only). Limits given before
                this option are dropped too; give them after it.
                """) { options, _ in options.server.limits = .unlimited },
            Option(["--seccomp"], value: "PROFILE", choices: ["default", "log", "none"], help: """
                default: deny what an MCP server has no business calling (module loading, kexec, mount, ptrace,
                bpf, perf_event_open, keyrings, reboot, swap, userfaultfd, ...) with EPERM; clone3 and io_uring
                answer ENOSYS so glibc and libuv fall back; 32-bit and x32 syscalls kill the process.
                log: the default profile, but what it would deny with EPERM is allowed and logged by the kernel,
                to find the call a server that fails under the default needs: `journalctl -k -g 'type=1326'`
                shows syscall=N (name it with `scmp_sys_resolver N` or `ausyscall N`). The ENOSYS answers stay, and
                32-bit and x32 syscalls still kill.
                none: no filter (a warning is printed; no_new_privs stays on).
                FILE: a Docker / OCI runtime-spec seccomp JSON profile.
                """) { options, value throws(CorralError) in
                    options.server.seccomp = try SeccompChoice.profile(value)
                },
            Option(["--containment"], value: "MODE", choices: ["auto", "strict"], excludes: ["--containment"], help: """
                auto: where the host cannot give the server its own cgroup and mount namespaces (rootless, with
                unprivileged user namespaces forbidden by a sysctl or AppArmor), start it with the limits,
                no_new_privs and seccomp only, and say so on stderr and in the journal; it can then leave its
                scope, raise its own limits and reach the manager. strict: refuse instead (exit 69), and also
                when cgroup2 lacks nsdelegate and the seccomp profile is not the default. Default: auto.
                """) { options, value throws(CorralError) in
                    switch value {
                    case "auto": options.server.containment = .automatic
                    case "strict": options.server.containment = .strict
                    default: throw .invalid("--containment", value, "expected auto or strict")
                    }
                },
            Option(["--allow-buses"], help: """
                Leave the server its paths to systemd: the system bus, /run/systemd/private, and the user bus and
                user manager's socket (by default /dev/null covers them in the server's mount namespace, and root
                servers see an empty /run/user). Cost: the server can have units started outside its scope and
                its limits (systemd-run), and as root do whatever the system bus allows root. Said on stderr at
                start. For a server that genuinely needs D-Bus.
                """) { options, _ in options.server.allowsBuses = true },
            Option(["--uid"], value: "USER", excludes: ["--uid"], help: """
                Run the server as USER (a name or a number), like systemd's User=; its primary group and its
                supplementary groups as login sets them, unless --gid. Needs root.
                """) { options, value in options.server.user = value },
            Option(["--gid"], value: "GROUP", excludes: ["--gid"], help: """
                Run the server with GROUP (a name or a number) as its group. Needs root.
                """) { options, value in options.server.group = value },
            Option(["--capability"], value: "CAP", help: """
                Let a root server keep the capability CAP (CAP_NET_BIND_SERVICE, or net_bind_service), which
                it also keeps across exec as an ambient capability; by default a server started as root keeps
                none. Cost: what that capability allows (capabilities(7)); said on stderr at start. May be
                repeated. Needs root.
                """) { options, value throws(CorralError) in
                    options.server.capabilities.append(try Capability(value, field: "--capability").name)
                },
            Option(["--oom-score-adj"], value: "N", help: """
                The server's oom_score_adj, -1000 to 1000. Default: 500, so under memory pressure the kernel kills
                MCP servers long before sshd or the gateway. Lowering it below the caller's needs root.
                """) { options, value throws(CorralError) in
                    options.server.oomScoreAdjust =
                        Int32(try BoundedNumber.parse(value, field: "--oom-score-adj", in: BoundedNumber.oomScoreAdjust))
                },
            Option(["-E", "--setenv"], value: "NAME[=VALUE]", help: """
                Set an environment variable for the server (without =VALUE: pass this one from corral's own
                environment). May be repeated.
                """) { options, value throws(CorralError) in
                    try options.server.setEnvironment(value)
                },
            Option(["-C", "--working-directory"], value: "DIR", help: "Run the server in DIR.") { options, value in
                options.server.workingDirectory = value
            },
        ] + SandboxOptions.options()
    }
}

extension ServerConfiguration {
    /// What this configuration gives the server beyond Corral's default containment, one sentence each, for the
    /// start report: every weakening is said, on stderr and in the journal.
    func weakenings(name: ServerName) -> [String] {
        var sentences: [String] = []
        if seccomp == nil {
            sentences.append("server '\(name)' runs without a seccomp filter (--seccomp none)")
        } else if seccomp == SeccompProfile.default.auditingRefusals {
            sentences.append("server '\(name)' may make the calls the default filter denies; the kernel logs them (--seccomp log)")
        }
        if allowsBuses {
            sentences.append("server '\(name)' can reach systemd's buses (--allow-buses): it can have units started outside its scope and its limits")
        }
        if !capabilities.isEmpty {
            sentences.append("server '\(name)' keeps \(capabilities.joined(separator: ", ")) (--capability)")
        }
        return sentences
    }

    /// Applies `-E NAME=VALUE` or `-E NAME`.
    mutating func setEnvironment(_ assignment: String) throws(CorralError) {
        let name = String(assignment.prefix { $0 != "=" })
        guard !name.isEmpty, !name.contains(where: { $0 == "\0" }) else {
            throw .invalid("--setenv", assignment, "expected NAME=VALUE or NAME")
        }
        let value: String? = assignment.contains("=")
            ? String(assignment.dropFirst(name.count + 1)) : getenv(name).map { String(cString: $0) }
        var changes: [String: String?] = [:]
        if case .updating(let existing) = environment { changes = existing }
        changes[name] = .some(value)
        environment = .updating(changes)
    }
}
