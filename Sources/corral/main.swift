import Corral
import Dispatch
internal import Glibc
import Synchronization

let arguments = Array(CommandLine.arguments.dropFirst())
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
