// Starts N trivial servers at once through the Corral library and waits for all of them, timing the whole, for
// Scripts/bench to compare with N concurrent `systemd-run --scope` runs.
//
// usage: spawn-bench N [COMMAND...]   (default command: /bin/true)
import Corral

@main
struct SpawnBench {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let count = arguments.first.flatMap(Int.init), count > 0 else {
            print("usage: spawn-bench N [COMMAND...]")
            return
        }
        let command = arguments.count > 1 ? Array(arguments.dropFirst()) : ["/bin/true"]
        let clock = ContinuousClock()
        let started = clock.now
        let failures = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<count {
                group.addTask {
                    var configuration = ServerConfiguration(executable: command[0], arguments: Array(command.dropFirst()))
                    configuration.name = "spawn-bench"
                    configuration.guardrails = nil
                    do {
                        let termination = try await ServerProcess.spawn(configuration).wait()
                        return termination.exitCode == 0 ? 0 : 1
                    } catch {
                        print("spawn failed: \(error)")
                        return 1
                    }
                }
            }
            var failed = 0
            for await result in group { failed += result }
            return failed
        }
        let elapsed = clock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        print("spawned=\(count) failed=\(failures) total_ms=\(Int(ms))")
    }
}
