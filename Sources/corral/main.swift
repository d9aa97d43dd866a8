import Corral
import Dispatch
internal import Glibc
import Synchronization

let arguments = Array(CommandLine.arguments.dropFirst())
// `corral run --exec` of a server that needs a user namespace comes back here as a fresh image of itself, still
// single-threaded, to contain itself and exec the server (ProcessImage.exec). It returns only on failure.
if let failure = ServerProcess.resumeContainedExec(arguments) {
    Console.error(failure.message)
    exit(failure.exitCode)
}
// Descriptors 0-2 that the caller closed are /dev/null from here on: no descriptor corral opens may land there and
// be handed to a server as its stdin, stdout or stderr.
for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) < 0 { _ = open("/dev/null", O_RDWR) }
// A write to a stderr whose reader is gone fails with EPIPE instead of killing corral and orphaning its server.
// (Only the program does this; the library leaves the embedding process's dispositions alone.)
signal(SIGPIPE, SIG_IGN)
// `run` takes its signals through a signalfd: they must be blocked before any thread exists, so that every thread
// inherits the mask and none of them dies of a SIGTERM meant for the server.
let signals = arguments.first == "run" ? SignalForwarding() : nil
// Not an async main: that parks the main thread in dispatch_main's sigsuspend with an empty mask, where it would
// take (and die of) the very signals the signalfd is for. The main thread waits here with its mask intact.
let status = Mutex<Int32>(70)
let finished = DispatchSemaphore(value: 0)
Task.detached {
    let code = await CorralCommand.main(arguments, signals: signals)
    status.withLock { $0 = code }
    finished.signal()
}
finished.wait()
exit(status.withLock { $0 })
