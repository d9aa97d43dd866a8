import CorralCore
import Testing

struct LandlockAccessTests {
    @Test("each ABI handles the filesystem rights it knows: 13 in ABI 1, REFER in 2, TRUNCATE in 3, IOCTL_DEV in 5",
          arguments: [(0, 0), (1, 0x1fff), (2, 0x3fff), (3, 0x7fff), (4, 0x7fff), (5, 0xffff), (6, 0xffff), (7, 0xffff)])
    func handledRights(abi: Int, rights: UInt64) {
        #expect(LandlockAccess.fileSystem(abi: abi) == rights)
    }

    @Test("--read allows reading and executing only; --write everything; a device no more than read, write, truncate, ioctl")
    func ruleRights() {
        #expect(LandlockAccess.read == 0b1101)
        #expect(LandlockAccess.write == 0xffff)
        #expect(LandlockAccess.device & (LandlockAccess.refer | LandlockAccess.execute) == 0)
        #expect(LandlockAccess.domainOnly & LandlockAccess.read == 0)
    }

    static func sandbox(_ configure: (inout Sandbox) -> Void) -> Sandbox {
        var sandbox = Sandbox()
        configure(&sandbox)
        return sandbox
    }

    @Test("a kernel without Landlock cannot enforce --read, --write or --hide")
    func noLandlock() {
        #expect(LandlockAccess.gaps(of: Self.sandbox { $0.readable = ["/srv"] }, abi: 0).count == 1)
        #expect(LandlockAccess.gaps(of: Self.sandbox { $0.hidden = ["/root/.ssh"] }, abi: 0).first?.contains("/proc/PID/root") == true)
        #expect(LandlockAccess.gaps(of: Self.sandbox { $0.network = .none }, abi: 0).isEmpty)
    }

    @Test("before ABI 3 truncation is a gap of --read and --write, not of --hide", arguments: [1, 2])
    func truncation(abi: Int) {
        #expect(LandlockAccess.gaps(of: Self.sandbox { $0.writable = ["/srv"] }, abi: abi).first?.contains("truncation") == true)
        #expect(LandlockAccess.gaps(of: Self.sandbox { $0.hidden = ["/root/.ssh"] }, abi: abi).isEmpty)
        #expect(LandlockAccess.gaps(of: Self.sandbox { $0.writable = ["/srv"] }, abi: 3).isEmpty)
    }

    @Test("ports need ABI 4", arguments: [(3, 1), (4, 0), (6, 0)])
    func ports(abi: Int, gaps: Int) {
        #expect(LandlockAccess.gaps(of: Self.sandbox { $0.connectPorts = [443] }, abi: abi).count == gaps)
        #expect(LandlockAccess.gaps(of: Self.sandbox { $0.bindPorts = [0] }, abi: abi).count == gaps)
    }

    @Test("ports parse from 1 (0 for --bind) to 65535 and nothing else",
          arguments: [("443", "--connect", 443 as UInt16?), ("0", "--bind", 0), ("0", "--connect", nil), ("65535", "--bind", 65535),
                      ("65536", "--connect", nil), ("-1", "--bind", nil), ("http", "--connect", nil), ("", "--bind", nil)])
    func port(text: String, field: String, expected: UInt16?) {
        #expect((try? Sandbox.port(text, field: field)) == expected)
    }

    @Test("network modes parse by name only")
    func network() throws {
        #expect(try Sandbox.network("none") == .none)
        #expect(try Sandbox.network("loopback") == .loopback)
        #expect(throws: CorralError.self) { try Sandbox.network("off") }
        #expect(Sandbox().isEmpty && !Self.sandbox { $0.network = .loopback }.isEmpty)
    }
}

struct TruncationRefusalTests {
    @Test("the default and log profiles gain the truncation rules; a profile with its own rules for them does not")
    func rules() throws {
        let refusing = try #require(SeccompProfile.default.refusingTruncation())
        #expect(refusing.rules.count == SeccompProfile.default.rules.count + 4)
        #expect(refusing.rules.contains { $0.syscalls == ["truncate"] && $0.action == .errno(13) })
        let openat = try #require(refusing.rules.first { $0.syscalls == ["openat"] })
        #expect(openat.conditions == [.init(index: 2, op: .maskedEqual, value: 0o1003, valueTwo: 0o1000)])
        #expect(SeccompProfile.default.auditingRefusals.refusingTruncation() != nil)
        #expect(SeccompProfile(defaultAction: .allow, rules: [.init(["openat"], .errno(1))]).refusingTruncation() == nil)
        #expect(SeccompProfile(defaultAction: .errno(1), rules: []).refusingTruncation() == nil)
    }

    @Test("with the filter refusing truncation, ABI 1 and 2 have no truncation gap")
    func noGap() {
        var sandbox = Sandbox()
        sandbox.readable = ["/srv"]
        #expect(LandlockAccess.gaps(of: sandbox, abi: 2, truncationBySeccomp: true).isEmpty)
    }
}
