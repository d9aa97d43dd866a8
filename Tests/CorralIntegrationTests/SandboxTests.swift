import Corral
import Foundation
import Testing

/// Files and network per server (issue 17), on the guest's real kernel: what `--hide`, `--read`/`--write` and
/// `--network` leave a server, each probed by one line of shell in the server, and the documented refusal where
/// the kernel's Landlock cannot enforce what was asked for. Run with `corral run` and `--exec`, as root and rootless.
@Suite(.guestOnly)
struct SandboxTests {
    /// The kernel's Landlock ABI (6.1: 2; 6.12: 6).
    static let abi = HostIsolation.current.landlockABI

    /// A fresh directory under /var/tmp (not the temp directory, which a sandboxed server may write).
    static func scratch() throws -> String {
        let path = "/var/tmp/corral-sandbox-\(PsStopGcTests.marker())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(arguments: [false, true])
    func aHiddenDirectoryAndFileCannotBeReadStatedOrListed(exec: Bool) async throws {
        let name = Guest.uniqueName("hide")
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let marker = PsStopGcTests.marker()
        try FileManager.default.createDirectory(atPath: "\(root)/ssh", withIntermediateDirectories: true)
        try "key-\(marker)\n".write(toFile: "\(root)/ssh/id_test", atomically: false, encoding: .utf8)
        try "token-\(marker)\n".write(toFile: "\(root)/gateway.json", atomically: false, encoding: .utf8)
        // Through /proc/PID/root of this test process (same user, outside the server's mount namespace) too.
        let script = """
            cat \(root)/ssh/id_test && echo read=ok || echo read=refused
            stat \(root)/ssh/id_test >/dev/null && echo stat=ok || echo stat=refused
            echo "list=[$(ls -A \(root)/ssh)]"
            cat \(root)/gateway.json >/dev/null && echo file=ok || echo file=refused
            echo x > \(root)/gateway.json && echo write=ok || echo write=refused
            cat /proc/\(getpid())/root\(root)/ssh/id_test && echo proc-root=ok || echo proc-root=refused
            """
        let outcome = try Guest.corral(["run", "--name", name] + (exec ? ["--exec"] : [])
            + ["--hide", "\(root)/ssh", "--hide", "\(root)/gateway.json", "--", "sh", "-c", script], timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(!outcome.stdout.contains(marker), "the server read a hidden file: \(outcome)")
        for line in ["read=refused", "stat=refused", "list=[]", "file=refused", "write=refused", "proc-root=refused"] {
            #expect(outcome.stdout.contains(line), "expected \(line): \(outcome)")
        }
        #expect(try String(contentsOfFile: "\(root)/gateway.json", encoding: .utf8) == "token-\(marker)\n")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test(arguments: [false, true])
    func writeLetsItWriteThatDirectoryAndNothingElse(exec: Bool) async throws {
        let name = Guest.uniqueName("write")
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let inside = "\(root)/inside", outside = "\(root)/outside"
        for directory in [inside, outside] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try "kept\n".write(toFile: "\(outside)/kept", atomically: false, encoding: .utf8)
        try "readable\n".write(toFile: "\(inside)/readable", atomically: false, encoding: .utf8)
        let script = """
            echo new > \(inside)/new && echo write-inside=ok || echo write-inside=refused
            cat \(inside)/readable >/dev/null && echo read-inside=ok || echo read-inside=refused
            echo new > \(outside)/new && echo write-outside=ok || echo write-outside=refused
            cat \(outside)/kept >/dev/null && echo read-outside=ok || echo read-outside=refused
            mv \(inside)/new \(outside)/moved && echo rename-out=ok || echo rename-out=refused
            ln \(inside)/new \(outside)/linked && echo link-out=ok || echo link-out=refused
            mv \(outside)/kept \(inside)/stolen && echo rename-in=ok || echo rename-in=refused
            rm -f \(outside)/kept && echo remove-outside=ok || echo remove-outside=refused
            echo tmp > ${TMPDIR:-/tmp}/corral-sandbox-$$ && rm ${TMPDIR:-/tmp}/corral-sandbox-$$ && echo tmp=ok || echo tmp=refused
            """
        let outcome = try Guest.corral(["run", "--name", name] + (exec ? ["--exec"] : [])
            + ["--write", inside, "--", "sh", "-c", script], timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        for line in ["write-inside=ok", "read-inside=ok", "write-outside=refused", "read-outside=refused",
                     "rename-out=refused", "link-out=refused", "rename-in=refused", "remove-outside=refused", "tmp=ok"] {
            #expect(outcome.stdout.contains(line), "expected \(line): \(outcome)")
        }
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: "\(inside)/new") && fm.fileExists(atPath: "\(outside)/kept"))
        for path in ["\(outside)/new", "\(outside)/moved", "\(outside)/linked", "\(inside)/stolen"] {
            #expect(!fm.fileExists(atPath: path), "the server made \(path): \(outcome)")
        }
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func readLetsItReadThatPathOnlyAndRunItsCommand() async throws {
        let name = Guest.uniqueName("read")
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/data", withIntermediateDirectories: true)
        try "data\n".write(toFile: "\(root)/data/file", atomically: false, encoding: .utf8)
        try "other\n".write(toFile: "\(root)/other", atomically: false, encoding: .utf8)
        // A symlink and .. in the path: resolved as the kernel resolves them.
        try FileManager.default.createSymbolicLink(atPath: "\(root)/link", withDestinationPath: "\(root)/data")
        let script = """
            cat \(root)/data/file >/dev/null && echo read=ok || echo read=refused
            echo x > \(root)/data/file && echo write=ok || echo write=refused
            cat \(root)/other >/dev/null && echo other=ok || echo other=refused
            (: > \(root)/data/file) && echo truncate-open=ok || echo truncate-open=refused
            truncate -s 0 \(root)/data/file && echo truncate=ok || echo truncate=refused
            python3 -c 'import os, sys; os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC)' \(root)/data/file 2>/dev/null && echo truncate-read-only=ok || echo truncate-read-only=refused
            ls / >/dev/null && echo root-list=ok || echo root-list=refused
            """
        let outcome = try Guest.corral(["run", "--name", name]
            + ["--read", "\(root)/link/../data", "--", "sh", "-c", script], timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        for line in ["read=ok", "write=refused", "other=refused", "root-list=refused", "truncate-open=refused",
                     "truncate=refused", "truncate-read-only=refused"] {
            #expect(outcome.stdout.contains(line), "expected \(line): \(outcome)")
        }
        #expect(try String(contentsOfFile: "\(root)/data/file", encoding: .utf8) == "data\n", "the server emptied a file it may only read")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func theStrictPresetReadsEverythingWritesItsDirectoryAndHidesCredentials() async throws {
        let name = Guest.uniqueName("strict")
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let home = "\(root)/home", work = "\(root)/work"
        for directory in ["\(home)/.ssh", work] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let marker = PsStopGcTests.marker()
        try "key-\(marker)\n".write(toFile: "\(home)/.ssh/id_test", atomically: false, encoding: .utf8)
        try "notes\n".write(toFile: "\(home)/notes", atomically: false, encoding: .utf8)
        let script = """
            cat $HOME/.ssh/id_test && echo key=ok || echo key=refused
            cat $HOME/notes >/dev/null && echo notes=ok || echo notes=refused
            echo x > $HOME/new && echo write-home=ok || echo write-home=refused
            echo x > ./made && echo write-work=ok || echo write-work=refused
            echo "devices=[$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')]"
            """
        let outcome = try Guest.corral(["run", "--name", name, "--sandbox", "strict", "-E", "HOME=\(home)", "-C", work,
                                        "--", "sh", "-c", script], timeout: 120)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(!outcome.stdout.contains(marker), "the server read a hidden key: \(outcome)")
        for line in ["key=refused", "notes=ok", "write-home=refused", "write-work=ok", "devices=[lo ]"] {
            #expect(outcome.stdout.contains(line), "expected \(line): \(outcome)")
        }
        #expect(FileManager.default.fileExists(atPath: "\(work)/made") && !FileManager.default.fileExists(atPath: "\(home)/new"))
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func checkReportsWhatTheServerWasAllowed() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let outcome = try Guest.corral(["check", "--json", "--timeout", "2s", "--name", Guest.uniqueName("check"),
                                        "--sandbox", "strict", "-C", root, "--network", "none", "--", "sleep", "86410"], timeout: 120)
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("\"sandbox\":[\"reads only /, \(root) and what it needs to run\",\"writes only \(root), the temp directory\""), "\(outcome)")
        #expect(outcome.stdout.contains("\"network none\""), "\(outcome)")
    }

    /// Real Python servers from the checkout's virtual environment (its prefix and #! interpreter are what a process
    /// needs to run), through `corral check`'s MCP handshake: mcp-server-time under strict, mcp-server-git given
    /// only its repository and no network. The imports take half a minute under TCG.
    @Test(arguments: ["time", "git"])
    func aRealServerAnswersInItsSandbox(server: String) async throws {
        let name = Guest.uniqueName("sandboxed-\(server)")
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let bin = Guest.checkout.appendingPathComponent(".venv/bin").path
        var arguments = ["check", "--json", "--timeout", "5min", "--name", name]
        if server == "time" {
            arguments += ["--sandbox", "strict", "-C", root, "--", bin + "/mcp-server-time"]
        } else {
            let setUp = try Guest.run("/bin/sh", ["-c", "cd \(root) && git init -q && echo a > a && git add a && git -c user.name=c -c user.email=c@example.invalid commit -qm first"], timeout: 60)
            try #require(setUp.status == 0, "\(setUp)")
            arguments += ["--read", root, "--network", "none", "--", bin + "/mcp-server-git", "--repository", root]
        }
        let outcome = try Guest.corral(arguments, timeout: 600)
        #expect(outcome.status == 0, "\(outcome)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome)")
        #expect(report["ok"] as? Bool == true, "\(report)")
        #expect(!((report["tools"] as? [String]) ?? []).isEmpty, "\(report)")
        try await Guest.expectNothingLeft(name: name)
    }

    /// Where user namespaces are forbidden (`Scripts/test` runs this with user.max_user_namespaces=0): Landlock needs
    /// none, so --write holds; --hide and --network need the mount and network namespaces: refused unless
    /// --best-effort, which says what it dropped.
    @Test(.enabled(if: HostIsolation.current.namespacesRefused != nil, "needs a host that forbids the namespaces"))
    func withoutNamespacesWriteHoldsAndHideOrNetworkAreRefused() async throws {
        let name = Guest.uniqueName("no-namespaces")
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let refused = try Guest.corral(["run", "--name", name, "--hide", root, "--", "true"], timeout: 60)
        #expect(refused.status == 69 && refused.stderr.contains("namespaces") && refused.stderr.contains("--best-effort"), "\(refused)")
        let dropped = try Guest.corral(["run", "--name", Guest.uniqueName("no-namespaces"), "--best-effort", "--network", "none",
                                        "--", "sh", "-c", "readlink /proc/self/ns/net"], timeout: 60)
        #expect(dropped.status == 0 && dropped.stderr.contains("--best-effort"), "\(dropped)")
        let host = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        #expect(dropped.stdout.contains(host), "with --best-effort the host's network stays: \(dropped)")
        let written = try Guest.corral(["run", "--name", Guest.uniqueName("no-namespaces"), "--write", root, "--", "sh", "-c",
                                        "echo x > \(root)/in && echo in=ok; echo x > /var/tmp/corral-sandbox-out-$$ && echo out=ok || echo out=refused"], timeout: 60)
        #expect(written.status == 0 && written.stdout.contains("in=ok") && written.stdout.contains("out=refused"), "\(written)")
        try await Guest.expectNothingLeft(name: name)
    }

    /// mcp-server-fetch against a local HTTP server on the host's loopback, through the MCP SDK's client: allowed
    /// under `--sandbox default` and `--connect PORT` (ABI 4), refused under `--network loopback` (its own loopback
    /// is not the host's) and `--connect` of another port.
    @Test(arguments: [("default", true), ("loopback", false), ("connect", true), ("connect-other", false)])
    func mcpServerFetchReachesALocalServerOnlyWhereAllowed(variant: String, allowed: Bool) async throws {
        guard !variant.hasPrefix("connect") || Self.abi >= 4 else { return }
        let name = Guest.uniqueName("fetch-\(variant)")
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "fetched-\(name)\n".write(toFile: root + "/page.txt", atomically: true, encoding: .utf8)
        let port = Int.random(in: 20_000...40_000)
        let options = ["default": ["--sandbox", "default"], "loopback": ["--network", "loopback"],
                       "connect": ["--connect", "\(port)"], "connect-other": ["--connect", "\(port + 1)"]][variant]!
        let script = RealServerTests.behindHTTPServer(serving: root, port: port)
        let bin = Guest.checkout.appendingPathComponent(".venv/bin").path
        let outcome = try Guest.run("/bin/sh", ["-c", script, MCPServerTests.python, MCPServerTests.client, "--call", "fetch",
                                                "{\"url\": \"http://127.0.0.1:\(port)/page.txt\", \"raw\": true}", Guest.corral,
                                                "run", "--name", name] + options
                                        + ["--", bin + "/mcp-server-fetch", "--ignore-robots-txt", "--allow-private-ips"], timeout: 600)
        #expect(outcome.status == 0, "\(outcome)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome)")
        #expect(report["call_error"] as? Bool == !allowed, "\(report)")
        #expect(((report["call"] as? String)?.contains("fetched-\(name)") == true) == allowed, "\(report)")
        try await Guest.expectNothingLeft(name: name)
    }

    /// A program outside the system's directories whose libraries are too (corral itself: its Swift runtime is found
    /// through its RUNPATH in the toolchain) runs under --read without being given them.
    @Test func aProgramFindsItsLibrariesThroughItsRunPath() async throws {
        let name = Guest.uniqueName("runpath")
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let outcome = try Guest.corral(["run", "--name", name, "--read", root, "--", Guest.corral, "version"], timeout: 60)
        #expect(outcome.status == 0 && outcome.stdout.hasPrefix("corral "), "\(outcome)")
        try await Guest.expectNothingLeft(name: name)
    }

    /// A listener on the host's (this test's) loopback, and what the server makes of a connection to it.
    static func probe(network: String, exec: Bool = false) throws -> (Guest.Outcome, String) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, size) == 0 && listen(listener, 8) == 0 && getsockname(listener, $0, &size) == 0 }
        }
        let port = UInt16(bigEndian: address.sin_port)
        let hostNamespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? "?"
        let script = """
            echo "namespace=$(readlink /proc/self/ns/net)"
            echo "devices=[$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')]"
            bash -c 'echo > /dev/tcp/127.0.0.1/\(port)' && echo host-loopback=ok || echo host-loopback=refused
            python3 -c '
            import socket
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
            socket.create_connection(s.getsockname(), timeout=5); print("own-loopback=ok")
            ' 2>/dev/null || echo own-loopback=refused
            """
        let outcome = try Guest.corral(["run", "--name", Guest.uniqueName("net-\(network)")] + (exec ? ["--exec"] : [])
            + ["--network", network, "--", "sh", "-c", script], timeout: 120)
        return (outcome, hostNamespace)
    }

    @Test(arguments: [false, true])
    func networkNoneLeavesOnlyALoopbackDeviceThatIsDown(exec: Bool) throws {
        let (outcome, host) = try Self.probe(network: "none", exec: exec)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(!outcome.stdout.contains("namespace=\(host)"), "the server is in the host's network namespace: \(outcome)")
        for line in ["devices=[lo ]", "host-loopback=refused", "own-loopback=refused"] {
            #expect(outcome.stdout.contains(line), "expected \(line): \(outcome)")
        }
    }

    @Test func networkLoopbackReachesItselfButNotTheHost() throws {
        let (outcome, host) = try Self.probe(network: "loopback")
        #expect(outcome.status == 0, "\(outcome)")
        #expect(!outcome.stdout.contains("namespace=\(host)"), "the server is in the host's network namespace: \(outcome)")
        for line in ["devices=[lo ]", "host-loopback=refused", "own-loopback=ok"] {
            #expect(outcome.stdout.contains(line), "expected \(line): \(outcome)")
        }
    }

    @Test func networkHostIsTheDefault() throws {
        let (outcome, host) = try Self.probe(network: "host")
        #expect(outcome.stdout.contains("namespace=\(host)") && outcome.stdout.contains("host-loopback=ok"), "\(outcome)")
    }

    @Test(arguments: ["--read", "--write", "--hide"])
    func aMissingPathIsRefusedAndNothingStarts(option: String) async throws {
        let name = Guest.uniqueName("missing")
        let path = "/var/tmp/corral-sandbox-missing-\(PsStopGcTests.marker())"
        let outcome = try Guest.corral(["run", "--name", name, option, path, "--", "true"], timeout: 60)
        #expect(outcome.status == 66, "\(outcome)")
        #expect(outcome.stderr.contains(option) && outcome.stderr.contains(path) && outcome.stderr.contains("No such file"), "\(outcome)")
        try await Guest.expectNothingLeft(name: name)
    }

    /// Before ABI 3 the seccomp filter refuses truncation for Landlock; without a filter nothing can.
    @Test(.enabled(if: abi < 3, "truncation is refused by Landlock from ABI 3 on"))
    func aKernelThatCannotRefuseTruncationRefusesWriteWithoutSeccompUnlessBestEffort() async throws {
        let name = Guest.uniqueName("abi")
        let refused = try Guest.corral(["run", "--name", name, "--seccomp", "none", "--write", "/var/tmp", "--", "true"], timeout: 60)
        #expect(refused.status == 69, "\(refused)")
        #expect(refused.stderr.contains("truncation") && refused.stderr.contains("--best-effort"), "\(refused)")
        let started = try Guest.corral(["run", "--name", name, "--seccomp", "none", "--best-effort", "--write", "/var/tmp", "--", "true"], timeout: 60)
        #expect(started.status == 0 && started.stderr.contains("truncation"), "\(started)")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test(.enabled(if: abi < 4, "TCP rules exist from Landlock ABI 4 on"))
    func portsWithoutLandlockTCPRulesAreRefusedUnlessBestEffort() async throws {
        let name = Guest.uniqueName("ports")
        let refused = try Guest.corral(["run", "--name", name, "--connect", "443", "--", "true"], timeout: 60)
        #expect(refused.status == 69, "\(refused)")
        #expect(refused.stderr.contains("ABI 4") && refused.stderr.contains("--best-effort"), "\(refused)")
        let started = try Guest.corral(["run", "--name", name, "--best-effort", "--bind", "8080", "--", "true"], timeout: 60)
        #expect(started.status == 0, "\(started)")
        #expect(started.stderr.contains("--best-effort") && started.stderr.contains("--connect and --bind"), "\(started)")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test(.enabled(if: abi >= 4, "TCP rules exist from Landlock ABI 4 on"))
    func connectRefusesOtherPorts() throws {
        let listener = try Self.probeConnect()
        #expect(listener.status == 0, "\(listener)")
        #expect(listener.stdout.contains("allowed=ok") && listener.stdout.contains("other=refused"), "\(listener)")
    }

    /// Two listeners on this test's loopback; the server may connect to the first only.
    static func probeConnect() throws -> Guest.Outcome {
        let script = """
            import socket, subprocess, sys
            a, b = socket.socket(), socket.socket()
            for s in (a, b): s.bind(("127.0.0.1", 0)); s.listen()
            probe = "for p in %d %d; do bash -c \\"echo > /dev/tcp/127.0.0.1/$p\\" && echo ok || echo refused; done" % (a.getsockname()[1], b.getsockname()[1])
            r = subprocess.run([sys.argv[1], "run", "--name", sys.argv[2], "--connect", str(a.getsockname()[1]), "--", "sh", "-c", probe], capture_output=True, text=True)
            lines = r.stdout.split()
            print("allowed=" + (lines[0] if lines else "?"), "other=" + (lines[1] if len(lines) > 1 else "?"), r.stderr)
            sys.exit(r.returncode)
            """
        return try Guest.run("/usr/bin/python3", ["-c", script, Guest.corral, Guest.uniqueName("connect")], timeout: 120)
    }
}
