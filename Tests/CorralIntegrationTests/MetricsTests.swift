import Corral
import Foundation
import Testing

/// `corral metrics` against real scopes, its output read by the Prometheus project's own Python parser.
@Suite(.guestOnly, .serialized)
struct MetricsTests {
    /// One sample as prometheus_client parsed it.
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// Parses exposition text with `prometheus_client.parser.text_string_to_metric_families`: family name and type
    /// by family, its samples. A text the parser rejects fails the test.
    static func parse(_ text: String) throws -> [String: (type: String, samples: [Sample])] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            families = [{"name": f.name, "type": f.type, "samples": [
                {"name": s.name, "labels": s.labels, "value": repr(s.value)} for s in f.samples]}
                for f in text_string_to_metric_families(sys.stdin.read())]
            print(json.dumps(families))
            """
        let outcome = try Guest.run(MCPServerTests.python, ["-c", script], stdin: text)
        try #require(outcome.status == 0, "prometheus_client rejected the text: \(outcome)\n\(text)")
        let families = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
        var parsed: [String: (type: String, samples: [Sample])] = [:]
        for family in families {
            let samples = (family["samples"] as? [[String: Any]] ?? []).map {
                Sample(name: $0["name"] as? String ?? "", labels: $0["labels"] as? [String: String] ?? [:],
                       value: Double($0["value"] as? String ?? "") ?? .nan)
            }
            let name = family["name"] as? String ?? ""
            #expect(parsed[name] == nil, "family \(name) appears twice")
            parsed[name] = (family["type"] as? String ?? "", samples)
        }
        return parsed
    }

    /// The value of the one sample of `family` whose labels include `labels`.
    static func value(_ families: [String: (type: String, samples: [Sample])], _ family: String, _ labels: [String: String],
                      sourceLocation: SourceLocation = #_sourceLocation) -> Double? {
        let matches = (families[family]?.samples ?? []).filter { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }
        #expect(matches.count == 1, "\(family)\(labels): \(matches.count) samples", sourceLocation: sourceLocation)
        return matches.first?.value
    }

    /// The cgroup directory of a process, from /proc/PID/cgroup.
    static func cgroup(of pid: Int32) throws -> String {
        let text = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("0::") })
        return "/sys/fs/cgroup" + line.dropFirst(3)
    }

    static func read(_ directory: String, _ file: String) throws -> String {
        try String(contentsOfFile: directory + "/" + file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func number(_ directory: String, _ file: String) throws -> Double {
        let text = try read(directory, file)
        return text == "max" ? .infinity : try #require(Double(text), "\(file): \(text)")
    }

    @Test func twoServersParseWithARealPrometheusParserAndMatchTheirCgroups() async throws {
        let plain = Guest.uniqueName("metrics")
        // Quotes and a backslash: the label escaping must survive a real parser.
        let quoted = Guest.uniqueName(#"metrics "q" \ b"#)
        let plainMarker = PsStopGcTests.marker(), quotedMarker = PsStopGcTests.marker()
        let startedAfter = Date().timeIntervalSince1970
        let first = try Guest.start(["run", "--name", plain, "--memory-max", "256M", "--tasks-max", "32", "--", "sleep", plainMarker])
        let second = try Guest.start(["run", "--name", quoted, "--memory-max", "infinity", "--", "sleep", quotedMarker])
        defer {
            _ = try? Guest.corral(["stop", plain, quoted])
            first.waitUntilExit()
            second.waitUntilExit()
        }
        let plainPID = try #require(try await PsStopGcTests.waitForServer(plain, marker: plainMarker).first)
        let quotedPID = try #require(try await PsStopGcTests.waitForServer(quoted, marker: quotedMarker).first)

        let startedBefore = Date().timeIntervalSince1970
        let outcome = try Guest.corral(["metrics"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stderr.isEmpty, "\(outcome)")
        let families = try Self.parse(outcome.stdout)
        // prometheus_client names a counter's family without its _total.
        #expect(families["corral_server_oom_kills"]?.type == "counter")
        #expect(families["corral_server_memory_bytes"]?.type == "gauge")
        #expect((Self.value(families, "corral_servers_running", [:]) ?? 0) >= 2)

        for (name, pid, memoryMax, tasksMax) in [(plain, plainPID, 256.0 * 1024 * 1024, 32.0), (quoted, quotedPID, .infinity, 256)] {
            let directory = try Self.cgroup(of: pid)
            let unit = String(try #require(directory.split(separator: "/").last))
            let labels = ["server": name, "unit": unit]
            #expect(unit.hasPrefix(try ServerName(name).unitPrefix))
            #expect(Self.value(families, "corral_server_up", labels) == 1)
            #expect(Self.value(families, "corral_server_memory_max_bytes", labels) == memoryMax)
            #expect(try Self.number(directory, "memory.max") == memoryMax)
            #expect(Self.value(families, "corral_server_tasks_max", labels) == tasksMax)
            #expect(try Self.number(directory, "pids.max") == tasksMax)
            #expect(Self.value(families, "corral_server_tasks", labels) == (try Self.number(directory, "pids.current")))
            let oomKills = try Self.read(directory, "memory.events").split(separator: "\n")
                .first { $0.hasPrefix("oom_kill ") }.flatMap { Double($0.split(separator: " ")[1]) }
            #expect(Self.value(families, "corral_server_oom_kills", labels) == oomKills)
            // A sleeping process's memory barely moves: within a factor of two of what the file says now.
            let memory = try #require(Self.value(families, "corral_server_memory_bytes", labels))
            let now = try Self.number(directory, "memory.current")
            #expect(memory > 0 && memory >= now / 2 && memory <= now * 2, "metrics \(memory), memory.current \(now)")
            let peak = try #require(Self.value(families, "corral_server_memory_peak_bytes", labels))
            let peakNow = try Self.number(directory, "memory.peak")
            #expect(peak >= memory && peak <= peakNow, "peak \(peak), memory.peak \(peakNow)")
            let start = try #require(Self.value(families, "corral_server_start_time_seconds", labels))
            #expect(start >= startedAfter - 1 && start <= startedBefore + 1, "start time \(start), not in [\(startedAfter), \(startedBefore)]")

            #expect(Self.value(families, "corral_server_restarts", ["server": name]) == 0)
            #expect(Self.value(families, "corral_server_breaker_open", ["server": name]) == 0)
            #expect(Self.value(families, "corral_server_breaker_state", ["server": name, "state": "closed"]) == 1)
            #expect(Self.value(families, "corral_server_breaker_state", ["server": name, "state": "open"]) == 0)
            #expect(Self.value(families, "corral_server_start_refused_seconds", ["server": name]) == 0)
        }

        // The scope sits in its own leaf slice, which sits in corral.slice.
        let slice = try Self.cgroup(of: plainPID).split(separator: "/").dropLast(2).joined(separator: "/")
        #expect(Self.value(families, "corral_slice_tasks_max", ["slice": "corral.slice"]) == (try Self.number("/" + slice, "pids.max")))
        #expect((Self.value(families, "corral_slice_tasks", ["slice": "corral.slice"]) ?? 0) >= 2)

        let stop = try Guest.corral(["stop", plain, quoted])
        #expect(stop.status == 0, "\(stop)")
        try await Guest.expectNothingLeft(name: plain, marker: "sleep \(plainMarker)")
        try await Guest.expectNothingLeft(name: quoted, marker: "sleep \(quotedMarker)")
        let after = try Self.parse(try Guest.corral(["metrics"]).stdout)
        #expect(!(after["corral_server_up"]?.samples ?? []).contains { $0.labels["server"] == plain || $0.labels["server"] == quoted })
    }

    @Test func anOpenBreakerIsExportedForAServerWithoutAScope() async throws {
        let name = Guest.uniqueName("metricsfail")
        let run = try Guest.corral(["run", "--name", name, "--breaker-threshold", "1", "--", "false"])
        #expect(run.status == 1, "\(run)")
        defer { _ = try? Guest.corral(["reset", name]) }

        let families = try Self.parse(try Guest.corral(["metrics"]).stdout)
        #expect(Self.value(families, "corral_server_breaker_open", ["server": name]) == 1)
        #expect(Self.value(families, "corral_server_breaker_state", ["server": name, "state": "open"]) == 1)
        #expect(Self.value(families, "corral_server_consecutive_failures", ["server": name]) == 1)
        #expect((Self.value(families, "corral_server_start_refused_seconds", ["server": name]) ?? 0) > 60)
        #expect(!(families["corral_server_up"]?.samples ?? []).contains { $0.labels["server"] == name }, "no scope, no instance")
    }

    @Test func theTextfileIsReplacedWholeWithMode0644WhateverTheUmask() throws {
        let directory = NSTemporaryDirectory() + Guest.uniqueName("metrics-textfile")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/corral.prom"
        try "stale\n".write(toFile: path, atomically: false, encoding: .utf8)
        let before = try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int)

        let outcome = try Guest.run("/bin/sh", ["-c", "umask 077 && exec \"$0\" metrics --textfile \"$1\"", Guest.corral, path])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.isEmpty, "nothing on stdout with --textfile: \(outcome)")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.posixPermissions] as? Int == 0o644)
        // Renamed over, not rewritten in place: a new inode, and no temporary file left beside it.
        #expect(attributes[.systemFileNumber] as? Int != before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["corral.prom"])
        let families = try Self.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(families["corral_servers_running"] != nil)

        let wrong = try Guest.corral(["metrics", "--textfile", directory + "/corral.txt"])
        #expect(wrong.status == 64, "\(wrong)")
        #expect(wrong.stderr.contains(".prom"), "\(wrong)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/corral.txt"))
    }
}
