// A minimal gateway: starts three real MCP servers through the Corral library, each in its own scope, talks MCP to
// each over its stdio, prints what each costs, and stops them.
//
// usage: gateway-example BIN_DIR REPOSITORY
//   BIN_DIR     where mcp-server-time, mcp-server-git and mcp-server-fetch are installed (e.g. .venv/bin)
//   REPOSITORY  a git repository for mcp-server-git
import Corral

@main
struct GatewayExample {
    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count == 3 else {
            print("usage: gateway-example BIN_DIR REPOSITORY")
            return
        }
        let bin = arguments[1]
        let servers: [(name: String, command: [String])] = [
            ("time", [bin + "/mcp-server-time"]),
            ("git", [bin + "/mcp-server-git", "--repository", arguments[2]]),
            ("fetch", [bin + "/mcp-server-fetch"]),
        ]
        // All three start at once: one bus connection, no start waits behind another's job.
        let results = await withTaskGroup(of: String.self) { group in
            for server in servers {
                group.addTask { await run(server.name, server.command) }
            }
            var lines: [String] = []
            for await line in group { lines.append(line) }
            return lines
        }
        for line in results.sorted() { print(line) }
    }

    static func run(_ name: String, _ command: [String]) async -> String {
        var configuration = ServerConfiguration(executable: command[0], arguments: Array(command.dropFirst())) {
            $0.name = "gateway-\(name)"
            $0.limits.memoryMax = .bytes(512 << 20)
            $0.limits.tasksMax = .count(64)
            // As MCP SDK clients do: only a small allowlist of the gateway's environment.
            $0.environment = .allowlist(["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"])
            $0.standardInput = .pipe
            $0.standardOutput = .pipe
            $0.standardError = .null
        }
        configuration.guardrails?.maximumInstances = 4
        do {
            let server = try await ServerProcess.spawn(configuration)
            let client = try MCPClient(server)
            let info = try await client.initialize(clientName: "gateway-example")
            let tools = try await client.listTools()
            let usage = server.usage()
            await server.closeStandardInput()
            let termination = await server.stop(grace: .seconds(5))
            let memory = usage.map { "memory \(ByteCount.format($0.memoryCurrent)) (peak \(ByteCount.format($0.memoryPeak ?? 0))), tasks \($0.tasksCurrent)" } ?? "usage unknown"
            return "\(name): \(info.name) \(info.version), \(tools.count) tools, unit \(server.unit), PID \(server.pid), \(memory); then it \(termination.description)"
        } catch {
            return "\(name): FAILED: \(error)"
        }
    }
}
