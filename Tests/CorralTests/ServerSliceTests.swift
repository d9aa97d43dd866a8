import Corral
import Testing

@Suite("ServerSlice")
struct ServerSliceTests {
    @Test func theUnitFileHoldsTheLimitsCorralGivesASliceItCreates() {
        let text = ServerSlice.unitFile(header: "# mine")
        #expect(text == """
            # mine
            [Unit]
            Description=Corral: all MCP servers together

            [Slice]
            MemoryAccounting=yes
            TasksAccounting=yes
            MemoryMax=50%
            MemorySwapMax=0
            TasksMax=4096

            """)
        // Written from defaultLimits, not restated: the percentage is the permyriad systemd gets.
        #expect(ServerSlice.defaultLimits.memoryMax == .permyriad(5000))
    }
}
