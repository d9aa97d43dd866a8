import Corral
import Foundation
import Testing

/// Facts about the guest these tests run in, and helpers to drive the real `corral` binary.
enum Guest {
    /// "root" or "user" inside the harness's guest (Scripts/guest sets CORRAL_GUEST); nil elsewhere.
    static let kind = ProcessInfo.processInfo.environment["CORRAL_GUEST"]

    /// Whether these tests should run: only inside the guest. The test script runs them there and fails when they
    /// did not run; inside a guest that is broken, they fail rather than skip.
    static var isGuest: Bool { kind != nil }

    static var isRoot: Bool { geteuid() == 0 }

    /// The checkout, found from this file's path.
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The corral binary under test (CORRAL_BIN, or the debug build in the checkout).
    static let corral = ProcessInfo.processInfo.environment["CORRAL_BIN"]
        ?? checkout.appendingPathComponent(".build/debug/corral").path

    /// What a command printed and how it ended.
    struct Outcome: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "status \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    /// Runs `corral ARGUMENTS` to completion.
    static func corral(_ arguments: [String], stdin: String? = nil, timeout: Double = 300) throws -> Outcome {
        try run(corral, arguments, stdin: stdin, timeout: timeout)
    }

    /// Runs a program to completion (killing it after `timeout` seconds), capturing stdout and stderr.
    static func run(_ program: String, _ arguments: [String], stdin: String? = nil,
                    environment: [String: String]? = nil, timeout: Double = 300) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = closeOnExec(Pipe()), err = closeOnExec(Pipe())
        process.standardOutput = out
        process.standardError = err
        let input = closeOnExec(Pipe())
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        nonisolated(unsafe) var outData = Data(), errData = Data()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { outData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        // Monotonic: a test steps the wall clock (13.8), and a deadline on it would end other tests' runs early.
        let deadline = ContinuousClock.now + .seconds(timeout)
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            Issue.record("\(program) \(arguments) did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        group.wait()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Outcome(status: status, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self))
    }

    /// `run`, awaited on a thread of its own: a run of minutes must not hold one of the cooperative pool's threads
    /// (one per CPU, two in the guest) that every other test's async work, and the library's, waits for.
    static func runDetached(_ program: String, _ arguments: [String], environment: [String: String]? = nil,
                            timeout: Double = 300) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try run(program, arguments, environment: environment, timeout: timeout) })
            }
        }
    }

    /// `pipe` with both ends close-on-exec. Foundation's Pipe leaves them inheritable, so every process that tests
    /// start at the same time would hold this pipe open, and a reader would wait for the longest of them to end;
    /// the child still gets its own end (Process dup2s it onto 0, 1 or 2, which clears the flag there).
    static func closeOnExec(_ pipe: Pipe) -> Pipe {
        for handle in [pipe.fileHandleForReading, pipe.fileHandleForWriting] {
            _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        return pipe
    }

    /// Starts `corral ARGUMENTS` without waiting (for signal tests); stdout and stderr go to files.
    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: corral)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// SIGKILLs every process whose command line contains `marker` (what a failed test may have left running) and
    /// waits, at most 10 s, until they are gone.
    static func killProcesses(containing marker: String) {
        for pid in processes(containing: marker) { kill(pid, SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(10)
        while !processes(containing: marker).isEmpty && ContinuousClock.now < deadline { usleep(50_000) }
    }

    /// PIDs of processes whose command line contains `marker`.
    static func processes(containing marker: String) -> [Int32] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != me, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let text = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            // corral's own argv names the server's command too: only the server's processes count.
            return text.contains(marker) && !text.contains("CorralPackageTests") && !text.hasPrefix(corral)
        }
    }

    /// Corral scope units of server `name` that systemd still knows, in any state.
    static func scopes(of name: String) async throws -> [SystemdBus.UnitStatus] {
        let server = try ServerName(name)
        return try await SystemdBus.shared().listUnits(matching: [server.unitPrefix + "*"])
    }

    /// Leaf slices (each holds one scope of a server with a monitor) that name a scope of server `name`.
    static func leafSlices(of name: String) async throws -> [String] {
        let server = try ServerName(name)
        return try await SystemdBus.shared().listUnits(matching: ["*-????????.slice"]).filter { unit in
            unit.activeState != "inactive" && SliceName.leaf(described: unit.description)?.scope.hasPrefix(server.unitPrefix) == true
        }.map(\.name)
    }

    /// Waits up to `seconds` for `condition` (polling; used only to let the system settle, never to time things).
    static func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        repeat {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        return try await condition()
    }

    /// Asserts that no scope, no leaf slice and no marked process of a finished test is left.
    static func expectNothingLeft(name: String, marker: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let gone = try await eventually {
            let scopesGone = try await scopes(of: name).isEmpty
            let slicesGone = try await leafSlices(of: name).isEmpty
            return scopesGone && slicesGone
        }
        let left = try await scopes(of: name).map(\.name) + leafSlices(of: name)
        #expect(gone, "scopes of '\(name)' left: \(left)", sourceLocation: sourceLocation)
        if let marker {
            #expect(processes(containing: marker).isEmpty, "processes with '\(marker)' left", sourceLocation: sourceLocation)
        }
    }

    /// A unique name for one test's server.
    static func uniqueName(_ base: String) -> String {
        "\(base)-\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// The trait every integration test carries: run only inside the systemd guest.
extension Trait where Self == ConditionTrait {
    static var guestOnly: Self { .enabled(if: Guest.isGuest, "needs systemd as PID 1 on cgroup v2: run through Scripts/test") }
}
