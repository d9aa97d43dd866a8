import Corral
import Foundation
import Testing

/// `corral install` and `corral uninstall`: as root into a temporary prefix with the slice in /etc/systemd/system,
/// as a user into ~/.local with the slice in ~/.config/systemd/user. Serialized: both tests own corral.slice's file.
@Suite(.guestOnly, .serialized)
struct InstallTests {
    static let systemctl = Guest.isRoot ? ["systemctl"] : ["systemctl", "--user"]
    static let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
    static let slice = Guest.isRoot ? "/etc/systemd/system/corral.slice" : home + "/.config/systemd/user/corral.slice"

    /// The options and prefix of one installation: a fresh temporary prefix as root, the default one for a user.
    static func installation() -> (options: [String], prefix: String) {
        guard Guest.isRoot else { return ([], home + "/.local") }
        let prefix = NSTemporaryDirectory() + Guest.uniqueName("corral-prefix")
        return (["--prefix", prefix], prefix)
    }

    /// Each installed file with its mode and what must be in it.
    static func files(_ prefix: String) throws -> [(path: String, mode: Int, content: Data)] {
        func output(_ arguments: [String]) throws -> Data {
            let outcome = try Guest.corral(arguments)
            #expect(outcome.status == 0, "\(outcome)")
            return Data(outcome.stdout.utf8)
        }
        return [
            (prefix + "/bin/corral", 0o755, try Data(contentsOf: URL(fileURLWithPath: Guest.corral))),
            (prefix + "/share/man/man1/corral.1", 0o644, try output(["install", "--print-man"])),
            (prefix + "/share/bash-completion/completions/corral", 0o644, try output(["completions", "bash"])),
            (prefix + "/share/zsh/site-functions/_corral", 0o644, try output(["completions", "zsh"])),
            (prefix + "/share/fish/vendor_completions.d/corral.fish", 0o644, try output(["completions", "fish"])),
        ]
    }

    /// `systemctl show corral.slice` for the given properties.
    static func show(_ properties: [String]) throws -> [String: String] {
        let outcome = try Guest.run("/usr/bin/env", systemctl + ["show", "corral.slice"] + properties.flatMap { ["-p", $0] })
        #expect(outcome.status == 0, "\(outcome)")
        return Dictionary(outcome.stdout.split(separator: "\n").compactMap { line in
            line.firstIndex(of: "=").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) }
        }, uniquingKeysWith: { a, _ in a })
    }

    /// Files below `directory` whose path mentions corral (all of them in a temporary prefix).
    static func corralFiles(below directory: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var found: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue,
               Guest.isRoot || path.contains("corral") {
                found.append(path)
            }
        }
        return found
    }

    @Test func installPutsEverythingInPlaceAndUninstallTakesExactlyThatAway() throws {
        let (options, prefix) = Self.installation()
        defer { if Guest.isRoot { try? FileManager.default.removeItem(atPath: prefix) } }
        let install = try Guest.corral(["install"] + options)
        #expect(install.status == 0, "\(install)")

        let files = try Self.files(prefix)
        for file in files {
            let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            #expect(attributes[.posixPermissions] as? Int == file.mode, "\(file.path)")
            #expect(FileManager.default.contents(atPath: file.path) == file.content, "\(file.path) holds what corral generates")
            #expect(install.stdout.contains("installed \(file.path)\n"), "\(install)")
        }
        let version = try Guest.run(prefix + "/bin/corral", ["version"])
        let expected = try Guest.corral(["version"]).stdout
        #expect(version.status == 0 && version.stdout == expected, "\(version)")

        // The man page: roff that groff reads without a single warning, and that man renders.
        let page = prefix + "/share/man/man1/corral.1"
        let roff = try String(contentsOfFile: page, encoding: .utf8)
        #expect(roff.hasPrefix(".TH \"CORRAL\" 1 "))
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"] {
            #expect(roff.contains("\n.SH \"\(section)\"\n"), "section \(section)")
        }
        let groff = try Guest.run("/usr/bin/groff", ["-man", "-ww", "-z", page])
        #expect(groff.status == 0 && groff.stderr.isEmpty, "groff warnings: \(groff)")
        let man = try Guest.run("/usr/bin/man", ["-P", "cat", "-l", page],
                                environment: ["PATH": "/usr/bin:/bin", "MANWIDTH": "100", "LANG": "C.UTF-8"])
        #expect(man.status == 0, "\(man)")
        #expect(man.stdout.contains("CORRAL(1)") && man.stdout.contains("corral - contain MCP servers"), "\(man.stdout.prefix(400))")
        for command in ["run", "check", "ps", "metrics", "stop", "gc", "reset", "doctor", "slice", "wrap", "unwrap", "install",
                        "uninstall", "completions", "help", "version"] {
            #expect(man.stdout.contains("   corral \(command)\n"), "no subsection for corral \(command)")
        }
        #expect(man.stdout.contains("corral_server_memory_bytes{server,unit}"), "the metrics' names")

        // The slice: marked as ours, holding the defaults, loaded by the manager.
        let unit = try String(contentsOfFile: Self.slice, encoding: .utf8)
        #expect(unit.hasPrefix("# Written by `corral install`"), "\(unit)")
        #expect(unit.contains("\nMemoryMax=50%\n") && unit.contains("\nTasksMax=4096\n"), "\(unit)")
        #expect(install.stdout.contains("installed \(Self.slice)\n"), "\(install)")
        let shown = try Self.show(["LoadState", "FragmentPath", "MemoryMax", "TasksMax"])
        #expect(shown["LoadState"] == "loaded", "\(shown)")
        #expect(shown["TasksMax"] == "4096", "\(shown)")
        let total = try #require(try String(contentsOfFile: "/proc/meminfo", encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("MemTotal:") })
        let memory = try #require(Double(total.split(separator: " ")[1])) * 1024
        let memoryMax = try #require(Double(shown["MemoryMax"] ?? ""), "\(shown)")
        #expect(abs(memoryMax - memory / 2) < memory * 0.02, "MemoryMax \(memoryMax) of \(memory)")
        // A slice Corral created on the fly while servers run keeps its transient unit; install says so.
        #expect(shown["FragmentPath"] == Self.slice || install.stderr.contains("applies when it next starts"), "\(shown) \(install)")

        let again = try Guest.corral(["install"] + options)
        #expect(again.status == 0, "installing again upgrades in place: \(again)")

        let uninstall = try Guest.corral(["uninstall"] + options)
        #expect(uninstall.status == 0, "\(uninstall)")
        for file in files {
            #expect(!FileManager.default.fileExists(atPath: file.path), "\(file.path) left")
            #expect(uninstall.stdout.contains("removed \(file.path)\n"), "\(uninstall)")
        }
        #expect(!FileManager.default.fileExists(atPath: Self.slice))
        #expect(Self.corralFiles(below: prefix).isEmpty, "left in \(prefix): \(Self.corralFiles(below: prefix))")
        #expect(try Self.show(["FragmentPath"])["FragmentPath"] != Self.slice, "the manager still reads the removed file")

        let nothing = try Guest.corral(["uninstall"] + options)
        #expect(nothing.status == 0 && nothing.stdout.contains("nothing of corral's was installed"), "\(nothing)")
    }

    @Test func uninstallKeepsAFileReplacedSinceInstall() throws {
        let (options, prefix) = Self.installation()
        defer { if Guest.isRoot { try? FileManager.default.removeItem(atPath: prefix) } }
        let install = try Guest.corral(["install"] + options)
        #expect(install.status == 0, "\(install)")
        // Another package's corral takes the place of ours.
        let binary = prefix + "/bin/corral"
        try FileManager.default.removeItem(atPath: binary)
        try "#!/bin/sh\necho another corral\n".write(toFile: binary, atomically: false, encoding: .utf8)
        let uninstall = try Guest.corral(["uninstall"] + options)
        #expect(uninstall.status == 0, "\(uninstall)")
        #expect(uninstall.stderr.contains("kept \(binary): it was replaced or changed since corral install wrote it"), "\(uninstall)")
        #expect(try String(contentsOfFile: binary, encoding: .utf8) == "#!/bin/sh\necho another corral\n")
        #expect(!FileManager.default.fileExists(atPath: prefix + "/share/man/man1/corral.1"), "the rest is removed")
        #expect(!FileManager.default.fileExists(atPath: prefix + "/share/corral/installed"))
        try FileManager.default.removeItem(atPath: binary)
    }

    @Test func aSliceUnitWrittenByHandIsNeitherReplacedNorRemoved() throws {
        let (options, prefix) = Self.installation()
        defer { if Guest.isRoot { try? FileManager.default.removeItem(atPath: prefix) } }
        // The same limits as Corral's, so servers of other tests running meanwhile see no difference.
        let handwritten = ServerSlice.unitFile(header: "# corral.slice, tuned by hand")
        try FileManager.default.createDirectory(atPath: (Self.slice as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try handwritten.write(toFile: Self.slice, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(atPath: Self.slice)
            _ = try? Guest.run("/usr/bin/env", Self.systemctl + ["daemon-reload"])
        }

        let install = try Guest.corral(["install"] + options)
        #expect(install.status == 0, "\(install)")
        #expect(install.stderr.contains("kept \(Self.slice): it was not written by corral install"), "\(install)")
        #expect(try String(contentsOfFile: Self.slice, encoding: .utf8) == handwritten)

        let uninstall = try Guest.corral(["uninstall"] + options)
        #expect(uninstall.status == 0, "\(uninstall)")
        #expect(uninstall.stderr.contains("kept \(Self.slice)"), "\(uninstall)")
        #expect(try String(contentsOfFile: Self.slice, encoding: .utf8) == handwritten)
        #expect(!FileManager.default.fileExists(atPath: prefix + "/bin/corral"))
    }
}
