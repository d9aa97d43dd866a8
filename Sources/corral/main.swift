import Corral
internal import Glibc

let arguments = Array(CommandLine.arguments.dropFirst())
// `run` takes its signals through a signalfd: they must be blocked before any thread exists, so that every thread
// inherits the mask and none of them dies of a SIGTERM meant for the server.
let signals = arguments.first == "run" ? SignalForwarding() : nil
exit(await CorralCommand.main(arguments, signals: signals))
