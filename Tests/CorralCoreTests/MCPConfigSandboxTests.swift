import CorralCore
import Testing

struct MCPConfigSandboxTests {
    @Test("wrap passes the sandbox options on, validated as run takes them, with paths made absolute")
    func passedOn() throws {
        var options = MCPConfig.RunOptions()
        try options.append("--sandbox", "strict")
        try options.append("--network", "none")
        try options.append("--connect", "443")
        try options.append("--hide", "/usr/bin/../lib")
        #expect(options.arguments == ["--sandbox", "strict", "--network", "none", "--connect", "443", "--hide",
                                      FilePath.resolved("/usr/lib")!])
    }

    @Test("wrap refuses what run would refuse", arguments: [("--sandbox", "lax"), ("--network", "off"), ("--connect", "0"),
                                                            ("--bind", "http"), ("--read", "/nonexistent/corral"),
                                                            // A C string ends at the NUL: this was "/" (found by Scripts/fuzz).
                                                            ("--read", "/\0etc"), ("--hide", "/\0"), ("--seccomp", "/\0x.json")])
    func refused(name: String, value: String) {
        var options = MCPConfig.RunOptions()
        #expect(throws: CorralError.self) { try options.append(name, value) }
        #expect(options.arguments.isEmpty)
    }
}
