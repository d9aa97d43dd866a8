import CorralCore
import Testing

struct SandboxPresetTests {
    static func sandbox(_ preset: Sandbox.Preset?, _ configure: (inout Sandbox) -> Void = { _ in }) -> Sandbox {
        var sandbox = Sandbox()
        sandbox.preset = preset
        configure(&sandbox)
        return sandbox
    }

    @Test("default hides the credentials and client configurations that exist, and nothing else changes")
    func defaultPreset() {
        let present: Set = ["/home/a/.ssh", "/home/a/.claude.json", "/etc/shadow"]
        let expanded = Self.sandbox(.default).expanded(home: "/home/a", workingDirectory: "/srv", exists: present.contains)
        #expect(Set(expanded.hidden) == present)
        #expect(expanded.readable.isEmpty && expanded.writable.isEmpty && expanded.network == .host && expanded.preset == nil)
    }

    @Test("strict reads everything, writes the working directory, takes loopback unless none; given options stay")
    func strictPreset() {
        let expanded = Self.sandbox(.strict) { $0.hidden = ["/home/a/.ssh"]; $0.writable = ["/data"] }
            .expanded(home: "/home/a", workingDirectory: "/srv", exists: { $0 == "/home/a/.ssh" })
        #expect(expanded.hidden == ["/home/a/.ssh"])
        #expect(expanded.readable == ["/"] && expanded.writable == ["/data", "/srv"] && expanded.network == .loopback)
        let offline = Self.sandbox(.strict) { $0.network = .none }.expanded(home: nil, workingDirectory: "/srv", exists: { _ in false })
        #expect(offline.network == .none)
    }

    @Test("strict in / does not make everything writable")
    func strictInRoot() {
        #expect(Self.sandbox(.strict).expanded(home: nil, workingDirectory: "/", exists: { _ in false }).writable.isEmpty)
    }

    @Test("no preset: unchanged; a preset alone is not an empty sandbox")
    func none() {
        let sandbox = Self.sandbox(nil) { $0.hidden = ["/x"] }
        #expect(sandbox.expanded(home: "/h", workingDirectory: "/", exists: { _ in true }) == sandbox)
        #expect(!Self.sandbox(.default).isEmpty)
        #expect(Sandbox.hiddenPaths(of: .default, home: "/h/").contains("/h/.aws"))
    }
}

struct SandboxSummaryTests {
    @Test("the summary says what the server may read, write, not see and reach")
    func summary() {
        #expect(Sandbox().summary == ["reads and writes what its user may", "network host"])
        var sandbox = Sandbox()
        sandbox.readable = ["/srv"]
        sandbox.writable = ["/srv/out"]
        sandbox.hidden = ["/home/a/.ssh"]
        sandbox.network = .loopback
        sandbox.connectPorts = [443, 8443]
        #expect(sandbox.summary == ["reads only /srv, /srv/out and what it needs to run", "writes only /srv/out, the temp directory",
                                    "hidden: /home/a/.ssh", "network loopback", "TCP connect to 443, 8443 only"])
    }
}
