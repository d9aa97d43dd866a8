import CorralCore
import Testing

struct CapabilityTests {
    @Test("capability names parse as capabilities(7) spells them, with or without CAP_, in any case",
          arguments: [("CAP_NET_BIND_SERVICE", 10), ("net_bind_service", 10), ("cap_chown", 0), ("CAP_SYS_ADMIN", 21),
                      ("CAP_CHECKPOINT_RESTORE", 40)])
    func parses(text: String, number: Int) throws {
        let capability = try Capability(text)
        #expect(capability.number == number)
        #expect(capability.name.hasPrefix("CAP_"))
    }

    @Test("an unknown capability is a usage error naming it", arguments: ["", "CAP_", "NET_BIND", "CAP_ALL", "10"])
    func refuses(text: String) {
        #expect(throws: CorralError.self) { try Capability(text, field: "--capability") }
        do { _ = try Capability(text, field: "--capability") } catch {
            #expect(error.exitCode == 64 && error.message.contains("invalid --capability '\(text)'"))
        }
    }

    @Test func theMaskHasOneBitPerCapability() throws {
        #expect(Capability.mask([]) == 0)
        #expect(Capability.mask([try Capability("CAP_NET_BIND_SERVICE"), try Capability("CAP_CHOWN")]) == 0x401)
    }
}
