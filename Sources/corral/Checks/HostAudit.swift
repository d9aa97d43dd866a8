import Corral
internal import Glibc

/// The checks behind `corral doctor`, each reading real state and proposing an exact fix.
struct HostAudit {
    let manager: SystemdBus.Manager
    let slice: String
    var gateway: String?

    func run() async -> [Finding] {
        var findings = cgroupFindings()
        findings += sliceFindings()
        findings += await managerFindings()
        if let gateway = gateway ?? Self.serviceOfParent() {
            findings += await gatewayFindings(gateway)
        } else {
            findings.append(Finding(id: "gateway-unknown", severity: .info, title: "no gateway unit to audit",
                                    evidence: "corral was not started by a service and --gateway was not given",
                                    fix: "corral doctor --gateway UNIT"))
        }
        findings += await oomOrderFindings()
        findings += memoryFindings()
        findings += await oomdFindings()
        findings.append(seccompFinding())
        findings += containmentFindings()
        return findings
    }

    // MARK: cgroups

    private func cgroupFindings() -> [Finding] {
        let root = CgroupFiles.root
        guard FileText.trimmed(root + "/cgroup.controllers") != nil, FileText.trimmed("/proc/self/cgroup")?.hasPrefix("0::") == true else {
            return [Finding(id: "cgroup-v2", severity: .severe, title: "cgroup v2 is not the (only) hierarchy",
                            evidence: "\(root)/cgroup.controllers missing or /proc/self/cgroup has v1 lines",
                            fix: "boot with systemd.unified_cgroup_hierarchy=1 (e.g. in GRUB_CMDLINE_LINUX), then reboot")]
        }
        var findings = [Finding(id: "cgroup-v2", severity: .ok, title: "cgroup v2 is mounted", evidence: "\(root)/cgroup.controllers exists")]
        let path: String
        if manager == .user {
            path = root + ServerSlice.cgroupPath("x.slice", manager: .user).replacingSuffix("/x.slice")
        } else {
            path = root
        }
        let available = (FileText.trimmed(path + "/cgroup.controllers") ?? "").split(separator: " ").map(String.init)
        for controller in ["memory", "pids", "cpu"] where !available.contains(controller) {
            let severity: Finding.Severity = controller == "cpu" ? .warning : .severe
            let fix = manager == .user
                ? "mkdir -p /etc/systemd/system/user@.service.d\ncat > /etc/systemd/system/user@.service.d/delegate.conf <<'EOF'\n[Service]\nDelegate=cpu cpuset io memory pids\nEOF\nsystemctl daemon-reload   # then log out and in again"
                : "check the kernel command line for cgroup_disable=\(controller)"
            findings.append(Finding(id: "controller-\(controller)", severity: severity,
                                    title: "the \(controller) controller is not available" + (manager == .user ? " to your user manager" : ""),
                                    evidence: "\(path)/cgroup.controllers: \(available.joined(separator: " "))", fix: fix))
        }
        if available.contains("memory") && available.contains("pids") {
            findings.append(Finding(id: "controllers", severity: .ok, title: "memory and pids controllers are available",
                                    evidence: "\(path)/cgroup.controllers: \(available.joined(separator: " "))"))
        }
        return findings
    }

    private func sliceFindings() -> [Finding] {
        let path = CgroupFiles.root + ServerSlice.cgroupPath(slice, manager: manager)
        guard let memoryMax = FileText.trimmed(path + "/memory.max") else {
            return [Finding(id: "slice", severity: .info, title: "\(slice) does not exist yet",
                            evidence: "no \(path)", fix: "nothing: corral creates it with MemoryMax=50% and TasksMax=4096 on the first start")]
        }
        let tasksMax = FileText.trimmed(path + "/pids.max") ?? "?"
        guard memoryMax != "max", tasksMax != "max" else {
            return [Finding(id: "slice-limits", severity: .warning, title: "\(slice) does not bound all servers together",
                            evidence: "memory.max=\(memoryMax) pids.max=\(tasksMax)",
                            fix: "corral slice\(manager == .user ? " --user" : "") --memory-max 50% --tasks-max 4096")]
        }
        return [Finding(id: "slice-limits", severity: .ok, title: "\(slice) bounds all servers together",
                        evidence: "memory.max=\(memoryMax) pids.max=\(tasksMax)")]
    }

    private func managerFindings() async -> [Finding] {
        do {
            let bus = try SystemdBus.shared(manager)
            let version = (try? await bus.stringProperty("Version")) ?? "?"
            return [Finding(id: "manager", severity: .ok, title: "the \(manager.rawValue) manager is reachable",
                            evidence: "\(bus.endpoint), systemd \(version)")]
        } catch {
            return [Finding(id: "manager", severity: .severe, title: "the \(manager.rawValue) manager is not reachable",
                            evidence: error.message,
                            fix: manager == .user ? "loginctl enable-linger \(UserAccount.currentName)" : "run corral on a host where systemd is PID 1")]
        }
    }

    // MARK: the gateway

    private func gatewayFindings(_ unit: String) async -> [Finding] {
        guard let bus = try? SystemdBus.shared(manager) else { return [] }
        let load = (try? await bus.stringProperty("LoadState", interface: "org.freedesktop.systemd1.Unit", unit: unit)) ?? "?"
        guard load == "loaded" else {
            // A gateway named but not there: nothing about it can be vouched for, so it fails the audit.
            let list = manager == .user ? "systemctl --user list-units --type=service" : "systemctl list-units --type=service"
            return [Finding(id: "gateway", severity: .severe,
                            title: "gateway unit \(unit) does not exist for the \(manager.rawValue) manager",
                            evidence: "LoadState=\(load)",
                            fix: "corral doctor --gateway UNIT with the gateway's service unit (\(list) lists them)")]
        }
        let service = "org.freedesktop.systemd1.Service"
        func number(_ name: String) async -> UInt64? { try? await bus.numberProperty(name, interface: service, unit: unit) }
        func string(_ name: String) async -> String? { try? await bus.stringProperty(name, interface: service, unit: unit) }
        let memory = Self.physicalMemory()
        // The incident's own host: an unbounded gateway on a machine without swap meets the global OOM killer,
        // which then takes sshd and whatever else, with no time to react.
        let noSwap = (Self.meminfo()["SwapTotal"] ?? 0) == 0
        var findings: [Finding] = []
        let checks: [(property: String, severity: Finding.Severity, value: UInt64, why: String)] = [
            ("MemoryMax", noSwap ? .severe : .warning, memory / 4 * 3, noSwap
                ? "with no swap either, one runaway in the gateway meets the global OOM killer, which may take sshd first"
                : "one runaway in the gateway can take the whole machine's memory"),
            ("MemoryHigh", .info, memory / 10 * 6, "without it the gateway is reclaimed only when MemoryMax is hit"),
            ("TasksMax", .warning, 4096, "a fork storm in the gateway is bounded only by the kernel's pid_max"),
        ]
        for check in checks {
            let value = await number(check.property)
            if value == nil || value == .max {
                findings.append(Finding(id: "gateway-\(check.property.lowercased())", severity: check.severity,
                                        title: "gateway \(unit) has no \(check.property): \(check.why)",
                                        evidence: "\(check.property)=infinity",
                                        fix: dropIn(unit, "\(check.property)=\(check.property == "TasksMax" ? String(check.value) : ByteCount.format(check.value))", name: check.property)))
            } else {
                findings.append(Finding(id: "gateway-\(check.property.lowercased())", severity: .ok,
                                        title: "gateway \(unit) has \(check.property)", evidence: "\(check.property)=\(value!)"))
            }
        }
        if let killMode = await string("KillMode"), killMode == "process" || killMode == "none" {
            findings.append(Finding(id: "gateway-killmode", severity: .warning,
                                    title: "gateway \(unit) leaves its children behind when it stops or restarts",
                                    evidence: "KillMode=\(killMode)", fix: dropIn(unit, "KillMode=control-group", name: "KillMode")))
        }
        if let finding = await gatewayUserFinding(unit, bus: bus) { findings.append(finding) }
        let policy = await string("OOMPolicy") ?? "?"
        findings.append(Finding(id: "gateway-oompolicy", severity: .info, title: "gateway \(unit) OOM policy",
                                evidence: "OOMPolicy=\(policy)"))
        return findings
    }

    /// A drop-in fix for `unit`, as commands to paste.
    private func dropIn(_ unit: String, _ line: String, name: String) -> String {
        let directory = manager == .user ? "~/.config/systemd/user/\(unit).d" : "/etc/systemd/system/\(unit).d"
        let file = "\(directory)/corral-doctor-\(name.lowercased()).conf"
        let reload = manager == .user ? "systemctl --user daemon-reload" : "systemctl daemon-reload"
        return "mkdir -p \(directory)\ncat > \(file) <<'EOF'\n[Service]\n\(line)\nEOF\n\(reload)"
    }

    // MARK: OOM order

    private func oomOrderFindings() async -> [Finding] {
        guard let system = try? SystemdBus.shared(.system) else { return [] }
        let service = "org.freedesktop.systemd1.Service"
        func adjust(_ unit: String) async -> Int32? {
            guard (try? await system.stringProperty("LoadState", interface: "org.freedesktop.systemd1.Unit", unit: unit)) == "loaded",
                  let value = try? await system.numberProperty("OOMScoreAdjust", interface: service, unit: unit) else { return nil }
            return Int32(truncatingIfNeeded: value)
        }
        let servers: Int32 = 500
        var findings: [Finding] = []
        for candidates in [["ssh.service", "sshd.service"], ["systemd-logind.service"]] {
            var found: (String, Int32)?
            for unit in candidates { if let value = await adjust(unit) { found = (unit, value); break } }
            guard let (unit, value) = found else { continue }
            if value >= servers {
                findings.append(Finding(id: "oom-\(unit)", severity: .severe,
                                        title: "the kernel may kill \(unit) before the MCP servers (oom_score_adj \(servers))",
                                        evidence: "\(unit) OOMScoreAdjust=\(value)",
                                        fix: "mkdir -p /etc/systemd/system/\(unit).d\ncat > /etc/systemd/system/\(unit).d/corral-doctor-oom.conf <<'EOF'\n[Service]\nOOMScoreAdjust=-900\nEOF\nsystemctl daemon-reload && systemctl restart \(unit)"))
            } else {
                findings.append(Finding(id: "oom-\(unit)", severity: value > 0 ? .info : .ok,
                                        title: "the kernel picks MCP servers (oom_score_adj \(servers)) before \(unit)",
                                        evidence: "\(unit) OOMScoreAdjust=\(value)"))
            }
        }
        return findings
    }

    // MARK: memory

    private func memoryFindings() -> [Finding] {
        let info = Self.meminfo()
        let total = info["MemTotal"] ?? 0
        let swap = info["SwapTotal"] ?? 0
        var findings = [Finding(id: "memory", severity: .info, title: "this machine has \(ByteCount.format(total)) of memory",
                                evidence: "/proc/meminfo MemTotal=\(total / 1024) kB")]
        if swap == 0 {
            findings.append(Finding(id: "swap", severity: .warning,
                                    title: "no swap: memory pressure goes straight to OOM kills, with no time to react",
                                    evidence: "/proc/meminfo SwapTotal=0 kB",
                                    fix: "fallocate -l 2G /swapfile && chmod 600 /swapfile && mkswap /swapfile && swapon /swapfile\necho '/swapfile none swap sw 0 0' >> /etc/fstab"))
        } else {
            findings.append(Finding(id: "swap", severity: .ok, title: "swap is present", evidence: "SwapTotal=\(swap / 1024) kB"))
        }
        return findings
    }

    private func oomdFindings() async -> [Finding] {
        guard let system = try? SystemdBus.shared(.system) else { return [] }
        let state = (try? await system.stringProperty("ActiveState", interface: "org.freedesktop.systemd1.Unit", unit: "systemd-oomd.service")) ?? "unknown"
        return [Finding(id: "oomd", severity: state == "active" ? .ok : .info,
                        title: state == "active" ? "systemd-oomd is running" : "systemd-oomd is not running (the kernel OOM killer is the only backstop)",
                        evidence: "systemd-oomd.service ActiveState=\(state)",
                        fix: state == "active" ? "" : "apt-get install systemd-oomd && systemctl enable --now systemd-oomd")]
    }

    private func seccompFinding() -> Finding {
        let status = FileText.trimmed("/proc/self/status") ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Seccomp:") }.map(String.init)
        guard let line else {
            return Finding(id: "seccomp", severity: .severe, title: "this kernel has no seccomp support",
                           evidence: "no Seccomp: line in /proc/self/status", fix: "use a kernel built with CONFIG_SECCOMP_FILTER")
        }
        return Finding(id: "seccomp", severity: .ok, title: "seccomp filters and no_new_privs are available",
                       evidence: line.replacingTabs)
    }

    // MARK: facts

    /// The service that started corral, from the parent's cgroup (e.g. "/system.slice/openclaw.service").
    static func serviceOfParent() -> String? {
        guard let last = CgroupFiles.membership(of: String(getppid()))?.split(separator: "/").last,
              last.hasSuffix(".service") else { return nil }
        return String(last)
    }

    static func meminfo() -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in (FileText.trimmed("/proc/meminfo") ?? "").split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            if parts.count >= 2, let kB = UInt64(parts[1]) { values[String(parts[0])] = kB * 1024 }
        }
        return values
    }

    static func physicalMemory() -> UInt64 { meminfo()["MemTotal"] ?? 1 << 30 }
}

private extension String {
    func replacingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
    var replacingTabs: String { map { $0 == "\t" ? " " : String($0) }.joined() }
}
