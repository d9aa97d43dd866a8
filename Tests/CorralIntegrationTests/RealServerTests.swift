import Foundation
import Testing

/// Real servers under the default containment (issue 14: cgroup and mount namespaces, hidden buses, no
/// capabilities, the Docker-level seccomp profile): mcp-server-git (git subprocesses) and mcp-server-fetch (HTTP to a
/// local server) through the MCP Python SDK's stdio client, and Node's worker threads, child_process and async fs.
/// mcp-server-time is MCPServerTests'. One test per server: the Python imports take half a minute under TCG.
@Suite(.guestOnly)
struct RealServerTests {
    static let python = MCPServerTests.python
    static let client = MCPServerTests.client
    static let bin = Guest.checkout.appendingPathComponent(".venv/bin").path

    /// A scratch directory of this test in /tmp (the guest's tmpfs overlay).
    static func scratch(_ name: String) throws -> String {
        let path = "/tmp/\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The SDK client's JSON report of one tool call through `corral run`.
    static func call(_ tool: String, _ arguments: String, name: String, server: [String]) throws -> [String: Any] {
        let outcome = try Guest.run(python, [client, "--call", tool, arguments, Guest.corral, "run", "--name", name,
                                             "--memory-max", "512M", "--"] + server, timeout: 600)
        #expect(outcome.status == 0, "\(outcome)")
        return try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome)")
    }

    /// A shell script that serves `root` over HTTP on 127.0.0.1:`port` while it runs its arguments ("$0" "$@"),
    /// then stops the server and exits with their status. The HTTP server lives and dies inside this one shell,
    /// with no descriptor of the test runner's (one started by the runner would hold other tests' pipes open).
    static func behindHTTPServer(serving root: String, port: Int) -> String {
        """
            cd \(root) || exit 90
            /usr/bin/python3 -c 'import os, sys; os.closerange(3, 65536); os.execv(sys.executable, [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "\(port)"])' </dev/null >/dev/null 2>&1 &
            http=$!
            i=0
            until /usr/bin/python3 -c 'import socket; socket.create_connection(("127.0.0.1", \(port)))' 2>/dev/null; do
                i=$((i+1)); [ $i -gt 600 ] && { kill $http; exit 91; }; sleep 0.1
            done
            "$0" "$@"; status=$?
            kill $http
            exit $status
        """
    }

    @Test func mcpServerGitLogsARepositoryThroughGitSubprocesses() async throws {
        let name = Guest.uniqueName("git")
        let repository = try Self.scratch(name)
        defer { try? FileManager.default.removeItem(atPath: repository) }
        let setUp = try Guest.run("/bin/sh", ["-c", """
            cd \(repository) && git init -q && echo hello > a.txt && git add a.txt &&
            git -c user.name=corral -c user.email=corral@example.invalid commit -qm 'contained-commit-\(name)'
            """], timeout: 60)
        try #require(setUp.status == 0, "\(setUp)")
        let report = try Self.call("git_log", "{\"repo_path\": \"\(repository)\", \"max_count\": 1}", name: name,
                                   server: [Self.bin + "/mcp-server-git", "--repository", repository])
        #expect(report["call_error"] as? Bool == false, "\(report)")
        #expect((report["call"] as? String)?.contains("contained-commit-\(name)") == true, "\(report)")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func mcpServerFetchFetchesFromALocalHTTPServer() async throws {
        let name = Guest.uniqueName("fetch")
        let root = try Self.scratch(name)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "fetched-through-corral-\(name)\n".write(toFile: root + "/page.txt", atomically: true, encoding: .utf8)
        let port = Int.random(in: 20_000...40_000)
        let url = "http://127.0.0.1:\(port)/page.txt"
        let script = Self.behindHTTPServer(serving: root, port: port)
        let outcome = try Guest.run("/bin/sh", ["-c", script, Self.python, Self.client, "--call", "fetch",
                                                "{\"url\": \"\(url)\", \"raw\": true}", Guest.corral, "run", "--name", name,
                                                "--memory-max", "512M", "--", Self.bin + "/mcp-server-fetch",
                                                "--ignore-robots-txt", "--allow-private-ips"], timeout: 600)
        #expect(outcome.status == 0, "\(outcome)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome)")
        #expect(report["call_error"] as? Bool == false, "\(report)")
        #expect((report["call"] as? String)?.contains("fetched-through-corral-\(name)") == true, "\(report)")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func nodeWorkerThreadsChildProcessesAndAsyncFilesWork() async throws {
        let name = Guest.uniqueName("node")
        let script = """
            const { Worker } = require('worker_threads');
            const { execFileSync } = require('child_process');
            const fs = require('fs/promises');
            (async () => {
              await new Promise((ok, no) => new Worker('require("worker_threads").parentPort.postMessage(6*7)', { eval: true })
                .on('message', m => { console.log('worker=' + m); ok(); }).on('error', no));
              console.log('child=' + execFileSync('/bin/echo', ['hi']).toString().trim());
              console.log('fs=' + (await fs.readFile('/etc/os-release', 'utf8')).includes('Debian'));
            })().catch(e => { console.log('error=' + e); process.exit(1); });
            """
        let outcome = try Guest.corral(["run", "--name", name, "--", "/usr/bin/node", "-e", script], timeout: 300)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "worker=42\nchild=hi\nfs=true\n", "\(outcome)")
        try await Guest.expectNothingLeft(name: name)
    }
}
