@testable import Corral
import Foundation
import Testing

/// What a sandboxed server may reach without being told: worked out on the host, no kernel needed.
struct SandboxPathsTests {
    static func script(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "corral-interpreter-\(UInt32.random(in: 0...UInt32.max))"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @Test("a script's interpreter is its #! path, or through env the name found on the server's PATH")
    func interpreter() throws {
        let direct = try Self.script("#!/bin/sh -e\necho\n")
        let env = try Self.script("#!/usr/bin/env -S sh -x\n")
        let binary = try Self.script("\u{7f}ELF")
        defer { for path in [direct, env, binary] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(Isolation.interpreter(of: direct, searchPath: nil) == "/bin/sh")
        #expect(Isolation.interpreter(of: env, searchPath: "/nonexistent:/bin") == "/bin/sh")
        #expect(Isolation.interpreter(of: binary, searchPath: nil) == nil)
    }

    @Test("the runtime paths: system directories read-only, devices, the temp directory writable, the command's prefix")
    func runtime() {
        let rules = Isolation.runtimePaths(executable: "/srv/venv/bin/server", environment: ["TMPDIR=/var/tmp/x", "PATH=/usr/bin"])
        let byPath = Dictionary(rules.map { ($0.path, $0.access) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["/usr"] == LandlockAccess.read && byPath["/etc"] == LandlockAccess.read)
        #expect(byPath["/dev/null"] == LandlockAccess.device)
        #expect(byPath["/var/tmp/x"] == LandlockAccess.write && byPath["/tmp"] == nil)
        #expect(byPath["/srv/venv/bin/server"] == LandlockAccess.read && byPath["/srv/venv"] == LandlockAccess.read)
        #expect(rules.allSatisfy { $0.optional })
        #expect(byPath.keys.allSatisfy { !$0.hasPrefix("/home") && $0 != "/" })
    }

    @Test("a path is resolved as the kernel sees it; a missing one is exit 66 naming the option")
    func existing() throws {
        #expect(try Isolation.existing("/usr/bin/../lib", "--read") == FilePath.resolved("/usr/lib"))
        let error = #expect(throws: CorralError.self) { try Isolation.existing("/nonexistent/x", "--write") }
        #expect(error?.exitCode == 66 && error?.message.contains("--write '/nonexistent/x'") == true)
        #expect(try Isolation.cover("/etc/hostname").directory == false)
        #expect(try Isolation.cover("/etc").directory == true)
        #expect((try? Isolation.cover("/")) == nil)
    }
}

/// Where the loader finds a program's libraries, read from real files on this host.
struct LibraryDirectoriesTests {
    static let helper = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/corral").path

    @Test("a Swift program's RUNPATH (corral's own) names the toolchain's runtime; a system program has none")
    func runPath() throws {
        let path = try #require(LibraryDirectories.runPath(of: Self.helper))
        #expect(path.contains("/usr/lib/swift/linux"), "\(path)")
        #expect(LibraryDirectories.runPath(of: "/bin/sh") == nil)
        #expect(LibraryDirectories.runPath(of: "/etc/hostname") == nil)
        #expect(LibraryDirectories.runPath(of: "/nonexistent") == nil)
    }

    @Test("$ORIGIN becomes the program's directory; LD_LIBRARY_PATH and ld.so.conf add theirs")
    func directories() {
        let directories = LibraryDirectories.of(Self.helper, environment: ["LD_LIBRARY_PATH=/opt/x/lib:relative"])
        #expect(directories.contains("/opt/x/lib") && !directories.contains("relative"))
        #expect(!directories.contains { $0.contains("$ORIGIN") } && directories.contains(FilePath.parent(of: FilePath.resolved(Self.helper) ?? "")))
        #expect(directories.contains { $0.hasSuffix("/usr/lib/swift/linux") })
        let runtime = Isolation.runtimePaths(executable: Self.helper, environment: [])
        #expect(runtime.contains { $0.path.hasSuffix("/usr/lib/swift/linux") && $0.access == LandlockAccess.read })
    }
}
