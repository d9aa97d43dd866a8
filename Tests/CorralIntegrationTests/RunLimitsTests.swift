import Foundation
import Testing

/// `corral run`: limits reach the scope's cgroup, and exceeding them is contained and reported by name.
@Suite(.guestOnly)
struct RunLimitsTests {
    /// Prints the scope's cgroup files from inside the server (in its cgroup namespace, the scope is "/").
    static let showCgroup = """
        d=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup | tail -n1)
        echo "cgroup=$(cut -d: -f3 /proc/self/cgroup | tail -n1)"
        for f in memory.max memory.high memory.swap.max pids.max cpu.max memory.oom.group; do echo "$f=$(cat $d/$f 2>/dev/null)"; done
        """

    @Test func defaultLimitsAreInTheScope() throws {
        let name = Guest.uniqueName("defaults")
        let outcome = try Guest.corral(["run", "--verbose", "--name", name, "--", "sh", "-c", Self.showCgroup])
        #expect(outcome.status == 0, "\(outcome)")
        // The server stands at the root of its own cgroup namespace; corral names the scope.
        #expect(outcome.stdout.contains("cgroup=/\n"), "\(outcome)")
        #expect(outcome.stderr.contains("as corral-defaults\\x2d"), "\(outcome)")
        #expect(outcome.stdout.contains("memory.max=1073741824"))
        #expect(outcome.stdout.contains("memory.swap.max=0"))
        #expect(outcome.stdout.contains("pids.max=256"))
        #expect(outcome.stdout.contains("memory.oom.group=1"), "OOMPolicy=kill should set memory.oom.group: \(outcome)")
    }

    @Test func givenLimitsAreInTheScope() throws {
        let name = Guest.uniqueName("limits")
        let outcome = try Guest.corral([
            "run", "--name", name, "--memory-max", "64M", "--memory-high", "48M", "--tasks-max", "20",
            "--cpu-quota", "50%", "--", "sh", "-c", Self.showCgroup,
        ])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("memory.max=67108864"), "\(outcome)")
        #expect(outcome.stdout.contains("memory.high=50331648"))
        #expect(outcome.stdout.contains("pids.max=20"))
        #expect(outcome.stdout.contains("cpu.max=50000 100000"), "\(outcome)")
    }

    @Test func memoryHogIsOOMKilledAndReportedWhileANeighbourLivesOn() async throws {
        let neighbour = Guest.uniqueName("neighbour")
        let marker = "75001"
        let healthy = try Guest.start(["run", "--name", neighbour, "--", "sleep", marker])
        defer { healthy.terminate() }
        #expect(await Guest.eventually { Guest.processes(containing: "sleep \(marker)").count == 1 })

        let name = Guest.uniqueName("hog")
        let hog = "b = []\nwhile True: b.append(bytearray(4 << 20))"
        let outcome = try Guest.corral(["run", "--name", name, "--memory-max", "48M", "--", "/usr/bin/python3", "-c", hog])
        #expect(outcome.status == 137, "\(outcome)")
        #expect(outcome.stderr.contains("server '\(name)' was OOM-killed"), "\(outcome)")
        #expect(outcome.stderr.contains("MemoryMax=48M"), "\(outcome)")
        try await Guest.expectNothingLeft(name: name)

        #expect(healthy.isRunning, "the neighbouring server must not be touched")
        #expect(Guest.processes(containing: "sleep \(marker)").count == 1)
        healthy.terminate()
        healthy.waitUntilExit()
        try await Guest.expectNothingLeft(name: neighbour, marker: "sleep \(marker)")
    }

    @Test func crossingAWarningThresholdWarnsOnce() throws {
        let memory = try Guest.corral(["run", "--name", Guest.uniqueName("warnmem"), "--memory-max", "64M", "--warn-memory", "50%",
                                       "--", "/usr/bin/python3", "-c", "import time\nb = bytearray(40 << 20)\ntime.sleep(4)"])
        #expect(memory.status == 0, "\(memory)")
        #expect(memory.stderr.components(separatedBy: "past its warning threshold of 32M (MemoryMax=64M)").count == 2, "\(memory)")
        let tasks = try Guest.corral(["run", "--name", Guest.uniqueName("warntasks"), "--tasks-max", "20", "--warn-tasks", "5",
                                      "--", "sh", "-c", "for i in 1 2 3 4 5 6; do sleep 4 & done; wait"])
        #expect(tasks.status == 0, "\(tasks)")
        #expect(tasks.stderr.components(separatedBy: "past its warning threshold of 5 (TasksMax=20)").count == 2, "\(tasks)")
        let quiet = try Guest.corral(["run", "--name", Guest.uniqueName("warnnone"), "--warn-tasks", "off", "--warn-memory", "off",
                                      "--", "sh", "-c", "for i in 1 2 3 4 5 6; do sleep 3 & done; wait"])
        #expect(quiet.stderr.isEmpty, "\(quiet)")
    }

    @Test func forkLoopStopsAtTheTasksLimit() async throws {
        let name = Guest.uniqueName("forks")
        let loop = "i=0; while [ $i -lt 50 ]; do sleep 74001 & i=$((i+1)); done; wait"
        let outcome = try Guest.corral(["run", "--name", name, "--tasks-max", "10", "--", "sh", "-c", loop])
        #expect(outcome.status != 0, "\(outcome)")
        #expect(outcome.stderr.contains("server '\(name)' hit its tasks limit (TasksMax=10)"), "\(outcome)")
        try await Guest.expectNothingLeft(name: name, marker: "sleep 74001")
    }

    @Test func limitTheHostCannotEnforceIsAnErrorNotANoOp() async throws {
        // The user manager gets memory, pids and cpu delegated, not io: an IO weight must then fail loudly.
        let name = Guest.uniqueName("io")
        let outcome = try Guest.corral(["run", "--name", name, "-p", "IOWeight=100", "--", "sh", "-c",
                                        "cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/io.weight"])
        if Guest.isRoot {
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("default 100"), "\(outcome)")
        } else {
            #expect(outcome.status == 69, "\(outcome)")
            #expect(outcome.stderr.contains("the io controller is not available"), "\(outcome)")
            #expect(outcome.stderr.contains("Delegate="), "\(outcome)")
        }
        try await Guest.expectNothingLeft(name: name)
    }
}
