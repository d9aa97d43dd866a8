import CorralCore
import Testing

@Suite("ByteCount")
struct ByteCountTests {
    @Test("format writes sizes the way systemd does", arguments: [
        (UInt64(0), "0B"),
        (1, "1B"),
        (1023, "1023B"),
        (1024, "1K"),
        (1536, "1.5K"),
        (2047, "1.9K"),
        (1 << 20, "1M"),
        (536_870_912, "512M"),
        (1 << 30, "1G"),
        (1_610_612_736, "1.5G"),
        (1 << 40, "1T"),
        (1 << 50, "1P"),
        (1 << 60, "1E"),
        (UInt64.max, "15.9E"),
    ])
    func format(bytes: UInt64, expected: String) {
        #expect(ByteCount.format(bytes) == expected)
    }
}
