internal import Glibc

#if CORRAL_FUZZ
/// The parser this run feeds, chosen by the first argument.
nonisolated(unsafe) var target = FuzzTarget.json

/// libFuzzer's callback: one input, to `target`.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's own main, callable with arguments of our choosing (the linked-in main is replaced by SwiftPM's).
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// `corral-fuzz TARGET [libFuzzer options] [CORPUS...]`: Scripts/fuzz runs each target for a bounded time.
@main enum Entry {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count > 1, let chosen = FuzzTarget(rawValue: arguments[1]) else {
            usage("corral-fuzz " + FuzzTarget.allCases.map(\.rawValue).joined(separator: "|") + " [libFuzzer options] [CORPUS...]")
        }
        target = chosen
        // libFuzzer gets our arguments without the target's name.
        var argv = [CommandLine.unsafeArgv[0]] + (2..<Int(CommandLine.argc)).map { CommandLine.unsafeArgv[$0] } + [nil]
        var argc = Int32(argv.count - 1)
        let status = argv.withUnsafeMutableBufferPointer { buffer in
            var base = buffer.baseAddress!
            return runDriver(&argc, &base, testOneInput)
        }
        exit(status)
    }
}
#else
/// Without -DCORRAL_FUZZ (a plain `swift build`) there is no libFuzzer to link against: this only says how to build.
@main enum Entry {
    static func main() {
        usage("corral-fuzz is built by Scripts/fuzz, with -sanitize=fuzzer -DCORRAL_FUZZ")
    }
}
#endif

/// Prints `text` on stderr and exits 64.
func usage(_ text: String) -> Never {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(64)
}
