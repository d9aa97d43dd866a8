import Corral

/// One preflight of a server: start, handshake within a deadline, measure, stop.
struct Preflight {
    var name = ""
    var unit: String?
    var startError: CorralError?
    var info: MCPClient.ServerInfo?
    var tools: [String] = []
    var failure: String?
    var firstResponse: Duration?
    var usage: Usage?
    var tasksPeak: UInt64 = 0
    var termination: Termination?
    var stderrTail: [String] = []
    /// What the server was allowed of files and network (`Sandbox.summary`).
    var sandbox: [String] = []

    private struct Handshake {
        var info: MCPClient.ServerInfo
        var answered: Duration
        var tools: [String]
    }

    var ok: Bool { startError == nil && failure == nil && info != nil }

    static func run(_ configuration: ServerConfiguration, timeout: Duration) async -> Preflight {
        var report = Preflight()
        report.name = (try? configuration.serverName().rawValue) ?? configuration.executable
        report.sandbox = configuration.effectiveSandbox.summary
        let server: ServerProcess
        do {
            server = try await ServerProcess.spawn(configuration)
        } catch {
            report.startError = error
            return report
        }
        report.unit = server.unit
        let tail = TailBuffer()
        let stderrReader = Task {
            guard let stream = try? server.standardErrorBytes() else { return }
            for await chunk in stream { tail.append(chunk) }
        }
        let clock = ContinuousClock()
        let started = clock.now
        let handshake = Task { () async throws -> Handshake in
            let client = try MCPClient(server)
            let info = try await client.initialize()
            let answered = clock.now - started
            return Handshake(info: info, answered: answered, tools: try await client.listTools())
        }
        // The deadline: stopping the server ends its stdout, which ends the handshake.
        let deadline = Task { () -> Bool in
            do { try await Task.sleep(for: timeout) } catch { return false }
            await server.stop(grace: .seconds(1))
            return true
        }
        let result = await handshake.result
        deadline.cancel()
        let timedOut = await deadline.value
        if let usage = server.usage() {
            report.usage = usage
            report.tasksPeak = usage.tasksCurrent
        }
        switch result {
        case .success(let handshake):
            report.info = handshake.info
            report.firstResponse = handshake.answered
            report.tools = handshake.tools
        case .failure(let error):
            report.failure = timedOut ? "no answer within \(timeout)" : (error as? CorralError)?.message ?? "\(error)"
        }
        await server.closeStandardInput()
        let termination = await server.stop(grace: .seconds(2))
        await stderrReader.value
        report.termination = termination
        if report.usage == nil { report.usage = termination.usage }
        report.stderrTail = tail.lastLines()
        if !report.ok, report.failure != nil, case .exited(let code) = termination.status, termination.reason != .stopped {
            report.failure = "the server exited with status \(code) before completing the handshake"
        }
        return report
    }

    private static func seconds(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        let fraction = "\(ms % 1000)"
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    var text: String {
        if let startError { return "failed: server '\(name)' could not be started: \(startError.message)\n" }
        var lines: [String] = []
        let memory = usage.map { usage in
            "peak memory \(ByteCount.format(usage.memoryPeak ?? usage.memoryCurrent))" + (usage.memoryMax.map { " of \(ByteCount.format($0))" } ?? "")
        } ?? "memory unknown"
        let tasks = "tasks \(tasksPeak)" + (usage?.tasksMax.map { " of \($0)" } ?? "")
        if let info, ok {
            lines.append("ok: server '\(name)' is \(info.name) \(info.version) (MCP \(info.protocolVersion)), \(tools.count) tool(s), first answer after \(Self.seconds(firstResponse ?? .zero)) s")
            if !tools.isEmpty { lines.append("    tools: " + tools.joined(separator: ", ")) }
        } else {
            lines.append("failed: server '\(name)': \(failure ?? "no answer")")
            if let termination { lines.append("    it \(termination.description)") }
        }
        lines.append("    \(memory), \(tasks); unit \(unit ?? "-") stopped")
        lines.append("    sandbox: " + sandbox.joined(separator: "; "))
        if !ok && !stderrTail.isEmpty {
            lines.append("    last lines of its stderr:")
            lines += stderrTail.map { "      " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func json(command: [String]) -> JSON {
        var members: [JSON.Member] = [
            .init("ok", .bool(ok)), .init("name", .string(name)), .init("unit", unit.map(JSON.string) ?? .null),
            .init("command", .array(command.map(JSON.string))),
        ]
        if let startError {
            members.append(.init("error", .string(startError.message)))
            return .object(members)
        }
        if let info {
            members.append(.init("server", .object([.init("name", .string(info.name)), .init("version", .string(info.version)),
                                                     .init("protocolVersion", .string(info.protocolVersion))])))
        }
        members.append(.init("tools", .array(tools.map(JSON.string))))
        members.append(.init("firstResponseSeconds", firstResponse.map { .number(Self.seconds($0)) } ?? .null))
        members.append(.init("memoryPeakBytes", usage.map { JSON(Int($0.memoryPeak ?? $0.memoryCurrent)) } ?? .null))
        members.append(.init("memoryMaxBytes", usage?.memoryMax.map { JSON(Int($0)) } ?? .null))
        members.append(.init("tasksPeak", JSON(Int(tasksPeak))))
        members.append(.init("tasksMax", usage?.tasksMax.map { JSON(Int($0)) } ?? .null))
        if let failure { members.append(.init("failure", .string(failure))) }
        if let termination {
            members.append(.init("exit", .object([.init("status", JSON(Int(termination.exitCode))),
                                                   .init("reason", .string(termination.reason.rawValue))])))
        }
        members.append(.init("stderrTail", .array(stderrTail.map(JSON.string))))
        members.append(.init("sandbox", .array(sandbox.map(JSON.string))))
        return .object(members)
    }
}

