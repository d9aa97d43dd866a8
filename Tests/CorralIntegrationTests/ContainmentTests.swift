import Corral
import Foundation
import Testing

/// Containment against the server itself (issue 14): escape attempts as a hostile server makes them, each with one
/// line of shell or one raw syscall, through a plain `corral run` with the default options. A server must not be able
/// to leave its scope, raise its own limits, have the manager start units for it, keep root's capabilities, or use
/// the calls Docker's default seccomp profile refuses.
@Suite(.guestOnly)
struct ContainmentTests {
    /// The cgroup outside the server's scope that its user may write: the root of the hierarchy for root, the user
    /// manager's delegated subtree otherwise.
    static var outside: String {
        Guest.isRoot ? "/sys/fs/cgroup" : "/sys/fs/cgroup/user.slice/user-\(getuid()).slice/user@\(getuid()).service"
    }

    /// An existing leaf cgroup outside the scope that accepts processes: the root cgroup for root, the user
    /// manager's own init.scope otherwise.
    static var outsideLeaf: String { Guest.isRoot ? outside : outside + "/init.scope" }

    /// `systemctl` for the manager this test talks to.
    static func systemctl(_ arguments: [String]) throws -> Guest.Outcome {
        try Guest.run("/bin/systemctl", (Guest.isRoot ? [] : ["--user"]) + arguments, timeout: 60)
    }

    /// Runs `corral run` with `arguments` in the background, its stdout read by a thread; `finish` waits for it.
    final class Background: @unchecked Sendable {
        let process = Process()
        private let ended = DispatchSemaphore(value: 0)
        private var output = Data()

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: Guest.corral)
            process.arguments = arguments
            process.standardInput = FileHandle.nullDevice
            let pipe = Guest.closeOnExec(Pipe())
            process.standardOutput = pipe
            try process.run()
            Thread.detachNewThread { [self] in
                output = pipe.fileHandleForReading.readDataToEndOfFile()
                ended.signal()
            }
        }

        /// Waits up to `timeout` seconds for corral to exit (SIGKILLing it after that); returns its stdout.
        func finish(timeout: Double = 60) -> String {
            let deadline = ContinuousClock.now + .seconds(timeout)
            while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
            if process.isRunning {
                Issue.record("corral did not exit within \(timeout) s")
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            ended.wait()
            return String(decoding: output, as: UTF8.self)
        }
    }

    @Test func aChildMovedToACgroupOfItsOwnDiesWithTheScope() async throws {
        let name = Guest.uniqueName("moveout")
        let marker = PsStopGcTests.marker()
        let escape = "\(Self.outside)/escape-\(marker)"
        defer {
            Guest.killProcesses(containing: "sleep \(marker)")
            rmdir(escape)
        }
        // Two children leave: one into a cgroup the server makes outside its scope, one into an existing cgroup
        // outside. Then the server's main process exits, so corral kills what is left in the scope. (The children
        // let go of the server's stdio as daemons do: corral waits for its stderr to end.)
        let script = """
            sleep \(marker) </dev/null >/dev/null 2>&1 & new=$!
            sleep \(marker) </dev/null >/dev/null 2>&1 & existing=$!
            mkdir \(escape) && echo mkdir=ok || echo mkdir=refused
            echo $new > \(escape)/cgroup.procs && echo moved-new=ok || echo moved-new=refused
            echo $existing > \(Self.outsideLeaf)/cgroup.procs && echo moved-existing=ok || echo moved-existing=refused
            """
        let outcome = try Guest.corral(["run", "--name", name, "--", "sh", "-c", script], timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        let survivors = await Guest.eventually(5) { Guest.processes(containing: "sleep \(marker)").isEmpty }
        #expect(survivors, "children of the server outlived its scope: \(outcome.stdout)")
        #expect(!FileManager.default.fileExists(atPath: escape), "the server made a cgroup outside its scope: \(outcome.stdout)")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func itsOwnLimitsCannotBeRaised() async throws {
        let name = Guest.uniqueName("raise")
        let marker = PsStopGcTests.marker()
        defer { Guest.killProcesses(containing: "sleep \(marker)") }
        // The scope as the server sees it in /proc/self/cgroup, and every cgroup whose cgroup.procs lists the server
        // (its scope found by absolute path, should /proc/self/cgroup not tell).
        let script = """
            cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
            for d in /sys/fs/cgroup$cg $(grep -rlx --include=cgroup.procs "$$" /sys/fs/cgroup 2>/dev/null | sed 's,/cgroup.procs$,,'); do
                for f in memory.max pids.max; do
                    echo max > $d/$f && echo "$d/$f=written" || echo "$d/$f=refused"
                done
            done
            exec sleep \(marker)
            """
        let corral = try Background(["run", "--name", name, "--memory-max", "100M", "--tasks-max", "50", "--",
                                     "sh", "-c", script])
        var sleeper: Int32?
        let up = await Guest.eventually(60) {
            sleeper = Guest.processes(containing: "sleep \(marker)").first { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "sleep\n"
            }
            return sleeper != nil
        }
        #expect(up, "the server did not get to its sleep")
        var limits: [String: String] = [:]
        if let sleeper, let line = try? String(contentsOfFile: "/proc/\(sleeper)/cgroup", encoding: .utf8) {
            // Read from here, outside the server's namespaces: the scope's path as the host sees it.
            let path = "/sys/fs/cgroup" + line.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(3)
            #expect(path.hasSuffix(".scope") && path.contains("/corral.slice/"), "\(path)")
            for file in ["memory.max", "pids.max"] {
                limits[file] = try? String(contentsOfFile: "\(path)/\(file)", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            kill(sleeper, SIGTERM)
        }
        let printed = corral.finish()
        #expect(limits["memory.max"] == "104857600", "memory.max in the scope: \(limits); the server printed: \(printed)")
        #expect(limits["pids.max"] == "50", "pids.max in the scope: \(limits); the server printed: \(printed)")
        #expect(printed.contains("=refused"), "the server found no limit file to try: \(printed)")
        #expect(!printed.contains("=written"), "the server wrote its own limits: \(printed)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep \(marker)")
    }

    @Test func theManagerStartsNoUnitForIt() async throws {
        let name = Guest.uniqueName("manager")
        let marker = PsStopGcTests.marker()
        let scope = "escape-\(marker).scope", service = "escape-\(marker).service"
        let user = Guest.isRoot ? "" : "--user"
        defer {
            _ = try? Self.systemctl(["stop", scope, service])
            _ = try? Self.systemctl(["reset-failed", scope, service])
            Guest.killProcesses(containing: "sleep \(marker)")
        }
        // `systemd-run --scope` runs in the background until it has exec'd its sleep in the new scope (or failed),
        // its stdio let go of (corral waits for the server's stderr to end); the plain `systemd-run` returns once
        // its service is started.
        let script = """
            \(Guest.isRoot ? "" : "export XDG_RUNTIME_DIR=/run/user/$(id -u)")
            systemd-run \(user) --scope -q --unit \(scope) sleep \(marker) </dev/null >/dev/null 2>&1 & bg=$!
            systemd-run \(user) -q --unit \(service) sleep \(marker) && echo service=started || echo service=refused
            i=0
            while [ $i -lt 200 ] && kill -0 $bg 2>/dev/null && [ "$(cat /proc/$bg/comm 2>/dev/null)" != sleep ]; do
                sleep 0.1; i=$((i+1))
            done
            [ "$(cat /proc/$bg/comm 2>/dev/null)" = sleep ] && echo scope=started || echo scope=refused
            """
        let outcome = try Guest.corral(["run", "--name", name, "--", "sh", "-c", script], timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        let survivors = await Guest.eventually(5) { Guest.processes(containing: "sleep \(marker)").isEmpty }
        #expect(survivors, "what the manager started for the server outlived it: \(outcome.stdout)")
        let units = try await SystemdBus.shared().listUnits(matching: [scope, service])
        #expect(units.allSatisfy { $0.activeState != "active" }, "units the server had started: \(units.map { "\($0.name) \($0.activeState)" }); it printed: \(outcome.stdout)")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test(.enabled(if: Guest.isRoot, "root's capabilities: only a root server has them"))
    func aRootServerHasNoCapabilities() async throws {
        let name = Guest.uniqueName("caps")
        let marker = PsStopGcTests.marker()
        let hostname = try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8)
        let corePattern = try String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)
        defer {
            // Put back whatever the server managed to change.
            if (try? String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8)) != hostname {
                try? hostname.write(toFile: "/proc/sys/kernel/hostname", atomically: false, encoding: .utf8)
            }
            if (try? String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)) != corePattern {
                try? corePattern.write(toFile: "/proc/sys/kernel/core_pattern", atomically: false, encoding: .utf8)
            }
        }
        // sethostname(2) needs CAP_SYS_ADMIN; core_pattern names a program the kernel runs as root, outside any scope;
        // /proc/sysrq-trigger reboots or kills everything for whoever may write it ("h" only prints the help).
        let script = """
            grep ^Cap /proc/self/status
            hostname escape-\(marker) && echo sethostname=ok || echo sethostname=refused
            echo '|/bin/true escape-\(marker)' > /proc/sys/kernel/core_pattern && echo core_pattern=written || echo core_pattern=refused
            echo h > /proc/sysrq-trigger && echo sysrq=written || echo sysrq=refused
            """
        let outcome = try Guest.corral(["run", "--name", name, "--", "sh", "-c", script], timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(outcome.stdout.contains("\(set):\t0000000000000000"), "\(set) is not empty: \(outcome.stdout)")
        }
        #expect(outcome.stdout.contains("sethostname=refused"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("core_pattern=refused"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("sysrq=refused"), "\(outcome.stdout)")
        #expect(try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8) == hostname)
        #expect(try String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8) == corePattern)
        try await Guest.expectNothingLeft(name: name)
    }

    /// Raw syscalls through ctypes, each in a forked child so that one that succeeds changes nothing else; prints
    /// "name=result" or "name=-1/errno". Where the kernel itself would answer with its own error (EBADF, EINVAL),
    /// the arguments are chosen so: EPERM then can only come from the filter.
    static let seccompProbe = """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        CLONE_NEWUSER, CLONE_NEWNS, SIGCHLD = 0x10000000, 0x00020000, 17

        def raw(number, *args):
            ctypes.set_errno(0)
            r = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
            return f"{r}/{ctypes.get_errno()}" if r == -1 else f"{r}"

        def isolated(call):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                os.write(write, call().encode())
                os._exit(0)
            os.close(write)
            text = os.read(read, 100).decode()
            os.waitpid(pid, 0)
            return text

        def clone():
            r = raw(56, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
            if r == "0":
                os._exit(0)
            if not r.startswith("-1/"):
                os.waitpid(int(r), 0)
                return "child"
            return r

        timex = ctypes.create_string_buffer(256)
        ctypes.c_uint.from_buffer(timex, 0).value = 0x4000  # ADJ_TICK
        ctypes.c_long.from_buffer(timex, 88).value = 1      # an invalid tick: nothing is set even where allowed
        pidfd = libc.syscall(ctypes.c_long(434), ctypes.c_long(os.getpid()), ctypes.c_long(0))
        probes = {
            "unshare-user": lambda: raw(272, CLONE_NEWUSER),
            "unshare-user-mount": lambda: raw(272, CLONE_NEWUSER | CLONE_NEWNS),
            "clone-newuser": clone,
            "setns": lambda: raw(308, -1, 0),
            "personality": lambda: raw(135, 0x0040000),
            "kcmp": lambda: raw(312, os.getpid(), os.getpid(), 0, 0, 0),
            "pidfd_getfd": lambda: raw(438, pidfd, 0, 0),
            "fanotify_init": lambda: raw(300, 0x200, 0),
            "process_madvise": lambda: raw(440, pidfd, 0, 0, 0, 1),
            "adjtimex-set": lambda: raw(159, ctypes.addressof(timex)),
            "clock_adjtime-set": lambda: raw(305, 0, ctypes.addressof(timex)),
            "personality-query": lambda: raw(135, 0xffffffff),
        }
        for name, call in probes.items():
            print(f"{name}={isolated(call)}")
        """

    @Test func theDefaultSeccompProfileRefusesWhatDockersRefuses() async throws {
        let name = Guest.uniqueName("docker")
        // Not recorded: a quick exit is a fast failure (issue 13.5), whose backoff would refuse the next start.
        let outcome = try Guest.corral(["run", "--no-guardrails", "--name", name, "--", "/usr/bin/python3", "-c", Self.seccompProbe],
                                       timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        for call in ["unshare-user", "unshare-user-mount", "clone-newuser", "setns", "personality", "kcmp",
                     "pidfd_getfd", "fanotify_init", "process_madvise", "adjtimex-set", "clock_adjtime-set"] {
            #expect(outcome.stdout.contains("\(call)=-1/1\n"), "\(call) was not refused with EPERM: \(outcome.stdout)")
        }
        // The harmless personality query stays allowed (Docker allows 0xffffffff).
        #expect(outcome.stdout.contains("personality-query=0\n"), "\(outcome.stdout)")
        // The shell tool a server would reach for.
        let tool = try Guest.corral(["run", "--name", name, "--", "unshare", "--user", "true"], timeout: 60)
        #expect(tool.status != 0, "unshare --user succeeded inside the scope: \(tool)")
        try await Guest.expectNothingLeft(name: name)
    }
}
