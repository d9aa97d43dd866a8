import Corral
internal import Glibc

extension HostAudit {
    /// Whether servers get their whole containment here: their own cgroup and mount namespaces (rootless: through
    /// an unprivileged user namespace) and cgroup2's nsdelegate.
    func containmentFindings() -> [Finding] {
        let host = HostIsolation.current
        var findings: [Finding] = []
        if let refused = host.namespacesRefused {
            findings.append(Finding(
                id: "user-namespaces", severity: .warning,
                title: "servers run without a cgroup namespace or private mounts: a server can leave its scope, raise its own limits and ask the manager for units",
                evidence: refused,
                fix: host.needsUserNamespace
                    ? "sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1   # and persist it in /etc/sysctl.d/\n# Ubuntu 24.04+: an AppArmor profile allowing userns for corral, or kernel.apparmor_restrict_unprivileged_userns=0\n# or refuse such starts: corral run --containment strict"
                    : "run corral where it may create namespaces (not in a container without CAP_SYS_ADMIN)"))
        } else {
            findings.append(Finding(id: "user-namespaces", severity: .ok,
                                    title: "servers get their own cgroup and mount namespaces" + (host.needsUserNamespace ? " (through a user namespace)" : ""),
                                    evidence: "a probe child made them, with read-only /sys, /proc/sys and cgroup2"))
        }
        findings.append(host.nsdelegate
            ? Finding(id: "nsdelegate", severity: .ok, title: "cgroup2 guards the servers' cgroup namespaces (nsdelegate)",
                      evidence: "/sys/fs/cgroup: \(host.cgroupMountOptions)")
            : Finding(id: "nsdelegate", severity: .warning,
                      title: "cgroup2 is mounted without nsdelegate: a server whose seccomp profile lets it mount (--seccomp none, log or a custom profile) can raise its own limits",
                      evidence: "/sys/fs/cgroup: \(host.cgroupMountOptions.isEmpty ? "no cgroup2 mount" : host.cgroupMountOptions)",
                      fix: "mount -t cgroup2 -o remount,nsdelegate none /sys/fs/cgroup   # systemd mounts it so by default"))
        findings.append(landlockFinding(abi: host.landlockABI))
        return findings
    }

    /// What `--read`, `--write`, `--hide`, `--connect` and `--bind` can enforce on this kernel.
    func landlockFinding(abi: Int) -> Finding {
        guard abi >= 1 else {
            return Finding(id: "landlock", severity: .warning,
                           title: "no Landlock: corral refuses --read, --write and --hide (unless --best-effort)",
                           evidence: "landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION) failed",
                           fix: "boot Linux 5.13 or later with landlock in the lsm= list (CONFIG_SECURITY_LANDLOCK)")
        }
        let missing = [(3, "truncation is refused by the seccomp filter instead (Linux 6.2)"),
                       (4, "no TCP rules: --connect and --bind are refused (Linux 6.7)")].filter { abi < $0.0 }.map(\.1)
        return Finding(id: "landlock", severity: .ok,
                       title: "Landlock ABI \(abi): servers can be given --read, --write and --hide" + (abi >= 4 ? ", --connect and --bind" : ""),
                       evidence: missing.isEmpty ? "landlock_create_ruleset reports ABI \(abi)" : missing.joined(separator: "; "))
    }

    /// A gateway running as root starts its servers as root: without capabilities, but owning the host's files.
    func gatewayUserFinding(_ unit: String, bus: SystemdBus) async -> Finding? {
        guard manager == .system else { return nil }
        let service = "org.freedesktop.systemd1.Service"
        let user = (try? await bus.stringProperty("User", interface: service, unit: unit)) ?? ""
        let dynamic = ((try? await bus.numberProperty("DynamicUser", interface: service, unit: unit)) ?? 0) != 0
        guard (user.isEmpty || user == "root" || user == "0") && !dynamic else {
            return Finding(id: "gateway-user", severity: .ok, title: "gateway \(unit) does not run as root",
                           evidence: dynamic ? "DynamicUser=yes" : "User=\(user)")
        }
        return Finding(id: "gateway-user", severity: .warning,
                       title: "gateway \(unit) runs as root: its servers run as root too (with no capabilities, but owning the host's files)",
                       evidence: "User=\(user.isEmpty ? "(unset: root)" : user)",
                       fix: "run the gateway as its own user (User= in a drop-in), or give each server one: corral run --uid USER -- ...")
    }
}
