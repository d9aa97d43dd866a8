@testable import CorralCore
import Testing

@Suite("SystemdSyntax")
struct SystemdSyntaxTests {
    // MARK: bytes

    @Test("bytes accepts systemd sizes", arguments: [
        ("512M", UInt64(536_870_912)),
        ("1G", 1_073_741_824),
        ("1.5G", 1_610_612_736),
        ("512 M", 536_870_912),
        ("1073741824", 1_073_741_824),
        ("0", 0),
        ("1B", 1),
        ("2K", 2048),
        ("  3K\t", 3072),
        ("1T", 1 << 40),
        ("1P", 1 << 50),
        ("1E", 1 << 60),
        ("15E", 15 << 60),
        ("0.5K", 512),
    ])
    func bytesAccepted(text: String, expected: UInt64) {
        #expect(SystemdSyntax.bytes(text) == expected)
    }

    @Test("bytes rejects malformed sizes", arguments: [
        "", " ", "1g", "-1", "1.5.5G", "M", "18E", "1.1234567891G", "1.G", ".5G", "1 0M", "1KB", "abc", "1e3",
    ])
    func bytesRejected(text: String) {
        #expect(SystemdSyntax.bytes(text) == nil)
    }

    @Test("bytes keeps nine fraction digits")
    func bytesNineFractionDigits() {
        // 0.123456789 GiB, truncated to whole bytes.
        #expect(SystemdSyntax.bytes("1.123456789G") == 1_073_741_824 + 132_560_717)
    }

    @Test("bytes refuses values just past UInt64.max")
    func bytesOverflowBoundary() {
        #expect(SystemdSyntax.bytes("18446744073709551615") == .max)
        #expect(SystemdSyntax.bytes("18446744073709551616") == nil)
        #expect(SystemdSyntax.bytes("16E") == nil)
    }

    // MARK: permyriad

    @Test("permyriad accepts percentages", arguments: [
        ("50%", UInt64(5000)),
        ("12.5%", 1250),
        ("100%", 10_000),
        ("0%", 0),
        ("0.01%", 1),
        (" 25% ", 2500),
    ])
    func permyriadAccepted(text: String, expected: UInt64) {
        #expect(SystemdSyntax.permyriad(text) == expected)
    }

    @Test("permyriad rejects malformed percentages", arguments: ["50", "", "%", "-5%", "1.5.5%", "abc%", "50 %%"])
    func permyriadRejected(text: String) {
        #expect(SystemdSyntax.permyriad(text) == nil)
    }

    @Test("permyriad caps at 100% by default, not with limit nil")
    func permyriadLimit() {
        #expect(SystemdSyntax.permyriad("101%") == nil)
        #expect(SystemdSyntax.permyriad("101%", limit: nil) == 10_100)
        #expect(SystemdSyntax.permyriad("200%", limit: nil) == 20_000)
        #expect(SystemdSyntax.permyriad("50%", limit: 4000) == nil)
        #expect(SystemdSyntax.permyriad("40%", limit: 4000) == 4000)
    }

    @Test("permyriad takes at most two decimals, as systemd's parse_permyriad", arguments: ["12.345%", "0.001%", "50.000%"])
    func permyriadPrecision(text: String) {
        #expect(SystemdSyntax.permyriad(text) == nil)
    }

    // MARK: microseconds

    @Test("microseconds accepts time spans", arguments: [
        ("30s", UInt64(30_000_000)),
        ("5min", 300_000_000),
        ("1h 30min", 5_400_000_000),
        ("1h30min", 5_400_000_000),
        ("2.5s", 2_500_000),
        ("500ms", 500_000),
        ("10", 10_000_000),
        ("250us", 250),
        ("1d", 86_400_000_000),
        ("1w", 604_800_000_000),
        ("2 hours", 7_200_000_000),
        ("1 min 1 s", 61_000_000),
        ("infinity", UInt64.max),
        (" infinity ", UInt64.max),
    ])
    func microsecondsAccepted(text: String, expected: UInt64) {
        #expect(SystemdSyntax.microseconds(text) == expected)
    }

    @Test("microseconds rejects malformed spans", arguments: ["", " ", "5 parsecs", "s", "1x", "min", "-5s", "1.2.3s", "5s x"])
    func microsecondsRejected(text: String) {
        #expect(SystemdSyntax.microseconds(text) == nil)
    }

    // MARK: bool

    @Test("bool parses systemd booleans", arguments: [
        ("1", true), ("yes", true), ("y", true), ("true", true), ("t", true), ("on", true), ("YES", true), (" on ", true),
        ("0", false), ("no", false), ("n", false), ("false", false), ("f", false), ("off", false), ("Off", false),
    ])
    func boolParsed(text: String, expected: Bool) {
        #expect(SystemdSyntax.bool(text) == expected)
    }

    @Test("bool rejects other words", arguments: ["", "2", "maybe", "yess", "enabled"])
    func boolRejected(text: String) {
        #expect(SystemdSyntax.bool(text) == nil)
    }
}
