@testable import Corral
import Testing

@Suite("ServerMetrics")
struct ServerMetricsTests {
    static let now = 1_000.0

    /// A running instance of "time" with usage, a stale one without, and a refused server with only guardrail state.
    static func snapshot() throws -> ServerMetrics.Snapshot {
        var state = ServerState()
        state.starts = 3
        var refused = ServerState()
        refused.breaker = .open
        refused.consecutiveFailures = 3
        let usage = Usage(memoryCurrent: 1000, memoryPeak: 2000, memoryMax: 1 << 30, tasksCurrent: 3, tasksMax: 256,
                          cpuMicroseconds: 1_500_000, oomKills: 1, tasksLimitHits: 2)
        let slice = Usage(memoryCurrent: 5000, memoryPeak: nil, memoryMax: nil, tasksCurrent: 4, tasksMax: 4096,
                          cpuMicroseconds: 0, oomKills: 0, tasksLimitHits: 0)
        let time = try ServerName("time")
        return ServerMetrics.Snapshot(instances: [
            ServerInstance(name: time, unit: "corral-time-00000001.scope", activeState: "active", subState: "running",
                           uptime: 10, usage: usage, guardrails: state),
            ServerInstance(name: time, unit: "corral-time-00000002.scope", activeState: "active", subState: "running",
                           stale: true, guardrails: state),
            ServerInstance(name: try ServerName(#"we"ird\"#), unit: nil, activeState: "inactive", subState: "dead",
                           guardrails: refused, refusedUntil: now + 30),
        ], slice: slice, now: now)
    }

    /// The samples, by `name{labels}`.
    static func samples(_ text: String) -> [String: String] {
        var samples: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let space = line.lastIndex(of: " ")!
            samples[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return samples
    }

    @Test func instancesServersTotalsAndTheSlice() throws {
        let text = ServerMetrics.exposition(try Self.snapshot())
        let samples = Self.samples(text)
        let first = #"{server="time",unit="corral-time-00000001.scope"}"#
        let second = #"{server="time",unit="corral-time-00000002.scope"}"#
        let weird = #"{server="we\"ird\\"}"#
        #expect(samples["corral_servers_running"] == "1")
        #expect(samples["corral_servers_stale"] == "1")
        #expect(samples["corral_server_up" + first] == "1")
        #expect(samples["corral_server_up" + second] == "0")
        #expect(samples["corral_server_start_time_seconds" + first] == "990.0")
        #expect(samples["corral_server_memory_bytes" + first] == "1000")
        #expect(samples["corral_server_memory_peak_bytes" + first] == "2000")
        #expect(samples["corral_server_memory_max_bytes" + first] == "1073741824")
        #expect(samples["corral_server_tasks" + first] == "3")
        #expect(samples["corral_server_tasks_max" + first] == "256")
        #expect(samples["corral_server_cpu_seconds_total" + first] == "1.5")
        #expect(samples["corral_server_oom_kills_total" + first] == "1")
        #expect(samples["corral_server_tasks_limit_hits_total" + first] == "2")
        // No cgroup read for the stale instance: no usage samples rather than zeros.
        #expect(samples["corral_server_memory_bytes" + second] == nil)
        #expect(!samples.keys.contains { $0.contains("we") && $0.contains("unit=") }, "a server without a scope has no instance samples")

        #expect(samples[#"corral_server_restarts_total{server="time"}"#] == "2")
        #expect(samples["corral_server_restarts_total" + weird] == "0")
        #expect(samples["corral_server_consecutive_failures" + weird] == "3")
        #expect(samples[#"corral_server_breaker_open{server="time"}"#] == "0")
        #expect(samples["corral_server_breaker_open" + weird] == "1")
        #expect(samples[#"corral_server_breaker_state{server="time",state="closed"}"#] == "1")
        #expect(samples[#"corral_server_breaker_state{server="time",state="open"}"#] == "0")
        #expect(samples[#"corral_server_breaker_state{server="we\"ird\\",state="open"}"#] == "1")
        #expect(samples[#"corral_server_breaker_state{server="we\"ird\\",state="half-open"}"#] == "0")
        #expect(samples[#"corral_server_start_refused_seconds{server="time"}"#] == "0.0")
        #expect(samples["corral_server_start_refused_seconds" + weird] == "30.0")

        #expect(samples[#"corral_slice_memory_bytes{slice="corral.slice"}"#] == "5000")
        #expect(samples[#"corral_slice_memory_max_bytes{slice="corral.slice"}"#] == "+Inf")
        #expect(samples[#"corral_slice_tasks_max{slice="corral.slice"}"#] == "4096")

        // Per-server families have one sample per name, however many instances it has.
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("corral_server_restarts_total{") }.count == 2)
    }

    @Test func everyFamilyIsDeclaredOnceBeforeItsSamples() throws {
        let text = ServerMetrics.exposition(try Self.snapshot())
        var declared: [String] = []
        var current = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                current = String(line.split(separator: " ")[2])
                #expect(!declared.contains(current), "\(current) declared twice")
                declared.append(current)
            } else if line.hasPrefix("# TYPE ") {
                #expect(line.split(separator: " ")[2] == current)
            } else {
                let name = line.prefix { $0 != "{" && $0 != " " }
                #expect(name == current, "\(line) outside its family \(current)")
            }
        }
        #expect(declared == ServerMetrics.families.map(\.name))
    }

    @Test func nothingRunningGivesTotalsOnly() {
        let text = ServerMetrics.exposition(ServerMetrics.Snapshot(instances: [], slice: nil, now: Self.now))
        #expect(text == """
            # HELP corral_servers_running Scopes of Corral servers that systemd runs and whose monitor is alive.
            # TYPE corral_servers_running gauge
            corral_servers_running 0
            # HELP corral_servers_stale Scopes whose monitor is gone or that systemd keeps as failed (corral gc cleans them up).
            # TYPE corral_servers_stale gauge
            corral_servers_stale 0

            """)
    }

    @Test func familyNamesFollowPrometheusConventions() {
        for family in ServerMetrics.families {
            #expect(family.name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }, "\(family.name)")
            #expect(family.name.hasPrefix("corral_"))
            #expect(family.name.hasSuffix("_total") == (family.type == "counter"), "\(family.name): counters, and only they, end in _total")
            // `corral help metrics` lists the help at an indent of 12: keep it within 100 columns.
            #expect(family.help.count <= 88, "\(family.name): help too long for the listing")
        }
        #expect(Set(ServerMetrics.families.map(\.name)).count == ServerMetrics.families.count)
    }
}
