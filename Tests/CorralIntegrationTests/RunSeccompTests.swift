import Foundation
import Testing

/// The seccomp filter and no_new_privs are on in the server, denied calls fail as documented, and real runtimes work.
@Suite(.guestOnly)
struct RunSeccompTests {
    /// Makes raw syscalls through ctypes and prints "name=result/errno".
    static let probe = """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        for name, number in [("mount", 165), ("ptrace", 101), ("bpf", 321), ("kexec_load", 246), ("clone3", 435), ("io_uring_setup", 425), ("getpid", 39)]:
            ctypes.set_errno(0)
            result = libc.syscall(number, 0, 0, 0, 0, 0)
            print(f"{name}={result}/{ctypes.get_errno()}")
        import threading, subprocess
        t = threading.Thread(target=lambda: None); t.start(); t.join()
        print("thread=ok", subprocess.run(["true"]).returncode)
        """

    @Test func defaultProfileIsActiveAndDeniesAsDocumented() async throws {
        let name = Guest.uniqueName("seccomp")
        // Not recorded: a quick exit is a fast failure (issue 13.5), whose backoff would refuse the next start.
        let status = try Guest.corral(["run", "--no-guardrails", "--name", name, "--", "grep", "-E", "^(Seccomp|NoNewPrivs):", "/proc/self/status"])
        #expect(status.stdout.contains("Seccomp:\t2"), "\(status)")
        #expect(status.stdout.contains("NoNewPrivs:\t1"), "\(status)")

        let outcome = try Guest.corral(["run", "--name", name, "--", "/usr/bin/python3", "-c", Self.probe])
        #expect(outcome.status == 0, "\(outcome)")
        for line in ["mount=-1/1", "ptrace=-1/1", "bpf=-1/1", "kexec_load=-1/1", "clone3=-1/38", "io_uring_setup=-1/38",
                     "thread=ok 0"] {
            #expect(outcome.stdout.contains(line), "expected \(line) in \(outcome.stdout)")
        }
        #expect(!outcome.stdout.contains("getpid=-1"))
        try await Guest.expectNothingLeft(name: name)
    }

    @Test(.enabled(if: Guest.isRoot, "only root may read the kernel log"))
    func logAllowsWhatDefaultDeniesAndTheKernelNamesTheCall() async throws {
        let name = Guest.uniqueName("seccomplog")
        // add_key (248) with no arguments: EPERM under the default profile, EFAULT or EINVAL from the kernel itself.
        let call = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.syscall(248, 0, 0, 0, 0, 0), ctypes.get_errno())"
        // Not recorded: a quick exit is a fast failure (issue 13.5), whose backoff would refuse the next start.
        let denied = try Guest.corral(["run", "--no-guardrails", "--name", name, "--", "/usr/bin/python3", "-c", call])
        #expect(denied.stdout == "-1 1\n", "\(denied)")
        let logged = try Guest.corral(["run", "--seccomp", "log", "--name", name, "--", "/usr/bin/python3", "-c", call])
        #expect(logged.status == 0, "\(logged)")
        #expect(logged.stdout.hasPrefix("-1 ") && logged.stdout != "-1 1\n", "the kernel, not the filter, answers: \(logged)")
        #expect(logged.stderr.contains("--seccomp log"), "a weakened filter is said on stderr: \(logged)")
        var kernelLog = ""
        let audited = try await Guest.eventually(15) {
            kernelLog = try Guest.run("/bin/dmesg", []).stdout
            return kernelLog.split(separator: "\n").contains { $0.contains("type=1326") && $0.contains("syscall=248") }
        }
        #expect(audited, "the kernel log names the call: \(kernelLog.suffix(600))")
        try await Guest.expectNothingLeft(name: name)
    }

    @Test func noneWarnsAndRunsWithoutAFilter() throws {
        let outcome = try Guest.corral(["run", "--seccomp", "none", "--", "grep", "^Seccomp:", "/proc/self/status"])
        #expect(outcome.stdout.contains("Seccomp:\t0"), "\(outcome)")
        #expect(outcome.stderr.contains("without a seccomp filter"))
    }

    @Test func ociProfileFileIsApplied() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("corral-profile-\(getpid()).json")
        try #"""
        {"defaultAction": "SCMP_ACT_ALLOW",
         "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
        """#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let denied = try Guest.corral(["run", "--name", Guest.uniqueName("denied"), "--seccomp", file.path, "--", "uname", "-s"])
        #expect(denied.status != 0, "\(denied)")
        #expect(denied.stderr.contains("Permission denied"), "\(denied)")
        let allowed = try Guest.corral(["run", "--name", Guest.uniqueName("allowed"), "--", "uname", "-s"])
        #expect(allowed.stdout == "Linux\n", "\(allowed)")
    }

    @Test func oomScoreAdjustIsRaisedByDefault() throws {
        // Not recorded: both derive one name, and a quick exit is a fast failure (issue 13.5) that would refuse the next.
        let byDefault = try Guest.corral(["run", "--no-guardrails", "--", "cat", "/proc/self/oom_score_adj"])
        #expect(byDefault.stdout == "500\n", "\(byDefault)")
        let given = try Guest.corral(["run", "--no-guardrails", "--oom-score-adj", "800", "--", "cat", "/proc/self/oom_score_adj"])
        #expect(given.stdout == "800\n", "\(given)")
    }
}
