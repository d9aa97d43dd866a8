// A gateway that misbehaves on purpose, for CoreStressTests (issue 13): each mode does in its own process what would
// kill, hang or disturb the test runner if the library got it wrong (a SIGPIPE death, a deadlocked cooperative pool,
// a gateway that ignores SIGCHLD or reaps with waitpid(-1), closed stdio). It prints key=value lines on stdout (on
// stderr where stdout is closed on purpose) and exits 0 when it got to the end; SIGALRM (exit 142) bounds each run.
//
// usage: corral-test-helper MODE ARGUMENTS...
//   same-name NAME COUNT     COUNT concurrent spawns of one name, guardrails on: decided=COUNT started=N refused=N
//   sigpipe NAME             writes to a server that closed its stdin: dispositions before/after, then alive=yes
//   sigchld-ignore NAME      SIGCHLD ignored, then spawn + wait: termination=..., records=N (instance records left)
//   waitpid-all NAME         a thread reaps with waitpid(-1); spawns NAME-0..2 + waits: termination=... each
//   fd0-cloexec NAME         a close-on-exec pipe on fd 0 passed as .fileDescriptor(0): the server's output
//   gate-low-fd NAME FILE    fds 0 and 1 closed, fd 70001 open: the server lists its fds into FILE
//   crowd NAME COUNT FILE    COUNT servers NAME-0... at once (sleep 86414): started=N units=N, then up; once FILE
//                            exists, stops them all: stopped=N (ended as stopped) and other=... for the rest
import Corral
import Glibc
import Synchronization

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    exit(64)
}
let mode = arguments[0]
let name = arguments[1]
alarm(60)
// A Swift gateway starts with SIGPIPE at SIG_DFL; the test runner ignores it, and ignored signals survive exec.
signal(SIGPIPE, SIG_DFL)

/// The reaper of a gateway that collects every child itself (outside the main actor: it runs on its own thread).
nonisolated func reapEveryChild(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    var status: Int32 = 0
    while true { if waitpid(-1, &status, 0) < 0 { usleep(1000) } }
}

func say(_ line: String, to fd: Int32 = 1) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

func configuration(_ executable: String, _ arguments: [String], guardrails: Bool = false,
                   configure: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
    ServerConfiguration(executable: executable, arguments: arguments) {
        $0.name = name
        $0.standardInput = .null
        $0.standardOutput = .null
        $0.standardError = .inherit
        if !guardrails { $0.guardrails = nil }
        configure(&$0)
    }
}

func spawn(_ configuration: ServerConfiguration) async -> ServerProcess {
    do {
        return try await ServerProcess.spawn(configuration)
    } catch {
        say("spawn-error=\(error.message)", to: 2)
        exit(70)
    }
}

/// How SIGPIPE, SIGCHLD, SIGINT, SIGTERM and SIGHUP are handled now, and whether SIGPIPE is blocked.
func dispositions() -> String {
    var text: [String] = []
    for (signal, label) in [(SIGPIPE, "PIPE"), (SIGCHLD, "CHLD"), (SIGINT, "INT"), (SIGTERM, "TERM"), (SIGHUP, "HUP")] {
        var action = sigaction()
        sigaction(signal, nil, &action)
        let handler = unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
        text.append("\(label):" + (handler == 0 ? "default" : handler == 1 ? "ignored" : "handled"))
    }
    var mask = sigset_t()
    pthread_sigmask(SIG_BLOCK, nil, &mask)
    text.append("PIPE-blocked:\(sigismember(&mask, SIGPIPE) == 1)")
    return text.joined(separator: ",")
}

/// The instance records the state store holds for this name.
func instanceRecords(_ name: String = name) -> Int {
    let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) } ?? "/run/user/\(getuid())"
    let directory = (geteuid() == 0 ? "/run/corral" : runtime + "/corral") + "/instances"
    guard let prefix = try? ServerName(name).unitPrefix else { return 0 }
    return (DirectoryEntries.names(atPath: directory) ?? []).filter { $0.hasPrefix(prefix) }.count
}

switch mode {
case "same-name":
    let count = Int(arguments.count > 2 ? arguments[2] : "8") ?? 8
    let server = configuration("sleep", ["86417"], guardrails: true)
    let outcomes = await withTaskGroup(of: Result<ServerProcess, CorralError>.self) { group in
        for _ in 0..<count {
            group.addTask {
                do throws(CorralError) { return .success(try await ServerProcess.spawn(server)) } catch { return .failure(error) }
            }
        }
        var all: [Result<ServerProcess, CorralError>] = []
        for await outcome in group { all.append(outcome) }
        return all
    }
    let started = outcomes.compactMap { try? $0.get() }
    say("decided=\(outcomes.count) started=\(started.count) refused=\(outcomes.count - started.count)")
    for case .failure(let error) in outcomes { say("refusal=\(error.message.prefix(200))") }
    for server in started { await server.stop(grace: .seconds(1)) }

case "sigpipe":
    let before = dispositions()
    let server = await spawn(configuration("sh", ["-c", "exec 0<&-; echo ready; exec sleep 86418"]) {
        $0.standardInput = .pipe
        $0.standardOutput = .pipe
    })
    let output = try server.standardOutputBytes()
    for await chunk in output where String(decoding: chunk, as: UTF8.self).contains("ready") { break }
    say("dispositions-before=\(before)")
    say("dispositions-after=\(dispositions())")
    do throws(CorralError) {
        for _ in 0..<4 { try await server.writeStandardInput(Array("{\"jsonrpc\":\"2.0\"}\n".utf8)) }
        say("write=ok")
    } catch {
        say("write-error=\(error.message)")
    }
    say("alive=yes")
    _ = await server.stop(grace: .seconds(1))

case "sigchld-ignore":
    signal(SIGCHLD, SIG_IGN)
    let server = await spawn(configuration("sh", ["-c", "exit 7"], guardrails: true))
    let end = await server.wait()
    say("termination=\(end)")
    say("records=\(instanceRecords())")

case "waitpid-all":
    var reaper = pthread_t()
    pthread_create(&reaper, nil, reapEveryChild, nil)
    // One name each: a fast failure of one must not back off the next (the slot is what is checked).
    var records = 0
    for index in 0..<3 {
        let server = await spawn(configuration("sh", ["-c", "sleep 0.2; exit 7"], guardrails: true) { $0.name = "\(name)-\(index)" })
        say("termination=\(await server.wait())")
        records += instanceRecords("\(name)-\(index)")
    }
    say("records=\(records)")

case "fd0-cloexec":
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0, dup2(fds[0], 0) == 0, fcntl(0, F_SETFD, FD_CLOEXEC) == 0 else { say("setup-error=\(errno)"); exit(71) }
    close(fds[0])
    say("hello-through-fd0", to: fds[1])
    close(fds[1])
    let server = await spawn(configuration("sh", ["-c", "cat 2>&1; echo \"fd0=$(readlink /proc/$$/fd/0 || echo closed)\""]) {
        $0.standardInput = .fileDescriptor(0)
        $0.standardOutput = .pipe
    })
    var text = ""
    for await chunk in try server.standardOutputBytes() { text += String(decoding: chunk, as: UTF8.self) }
    _ = await server.wait()
    say("output=" + text.split(separator: "\n").joined(separator: "|"))

case "gate-low-fd":
    let file = arguments[2]
    // Everything the library opens once (bus, reactor) is open before fds 0 and 1 are given up.
    _ = await spawn(configuration("true", [])).wait()
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    let high: Int32 = 70001
    if limit.rlim_cur <= rlim_t(high) {
        limit.rlim_cur = rlim_t(high + 10)
        if limit.rlim_max < limit.rlim_cur { limit.rlim_max = limit.rlim_cur }
        guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { say("setup-error=cannot raise RLIMIT_NOFILE: \(errno)", to: 2); exit(71) }
    }
    let null = open("/dev/null", O_RDONLY)
    guard null >= 0, dup2(null, high) == high else { say("setup-error=cannot open fd \(high)", to: 2); exit(71) }
    close(null)
    close(0)
    close(1)
    let server = await spawn(configuration("sh", ["-c", "ls /proc/$$/fd > \(file)"]) {
        $0.standardInput = .inherit
        $0.standardOutput = .inherit
        $0.seccomp = nil
    })
    say("termination=\(await server.wait())", to: 2)

case "crowd":
    // A gateway of many servers, in a process of its own: about seven descriptors each, more than systemd's soft
    // limit of 1024 (README, "Library"), and the test runner must not hold them (Foundation's Process.run crashes
    // reading /proc/self/fd in a process with ~1350 open).
    alarm(900)
    let count = Int(arguments[2]) ?? 200
    let go = arguments[3]
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, 65536))
    guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { say("setup-error=\(errno)", to: 2); exit(71) }
    let servers = await withTaskGroup(of: ServerProcess.self) { group in
        for index in 0..<count {
            group.addTask { await spawn(configuration("sleep", ["86414"]) { $0.name = "\(name)-\(index)" }) }
        }
        var all: [ServerProcess] = []
        for await server in group { all.append(server) }
        return all
    }
    say("started=\(servers.count) units=\(Set(servers.map(\.unit)).count)")
    say("up")
    while access(go, F_OK) != 0 { usleep(100_000) }
    let ends = await withTaskGroup(of: Termination.self) { group in
        for server in servers { group.addTask { await server.stop(grace: .seconds(5)) } }
        var all: [Termination] = []
        for await end in group { all.append(end) }
        return all
    }
    say("stopped=\(ends.filter { $0.reason == .stopped }.count)")
    say("other=\(ends.filter { $0.reason != .stopped }.map { "\($0)" }.joined(separator: "|"))")

default:
    say("unknown mode \(mode)", to: 2)
    exit(64)
}
exit(0)
