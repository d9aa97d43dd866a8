import CorralCore
import Testing

@Suite("Limits")
struct LimitsTests {
    /// Runs `body`, requires it to throw a CorralError, and returns it.
    private func corralError(_ body: () throws(CorralError) -> Void) -> CorralError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    private func expectInvalid(_ error: CorralError?, quoting text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error else {
            Issue.record("expected a CorralError", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == .invalidConfiguration, sourceLocation: sourceLocation)
        #expect(error.exitCode == 64, sourceLocation: sourceLocation)
        #expect(error.message.contains("'\(text)'"), "message: \(error.message)", sourceLocation: sourceLocation)
    }

    // MARK: defaults

    @Test("defaults are MemoryMax=1G, MemorySwapMax=0, TasksMax=256")
    func defaults() {
        let limits = Limits()
        #expect(limits.memoryMax == .bytes(1_073_741_824))
        #expect(limits.memorySwapMax == .bytes(0))
        #expect(limits.tasksMax == .count(256))
        #expect(limits.memoryHigh == nil)
        #expect(limits.cpuQuota == nil)
        #expect(limits.runtimeMax == nil)
        #expect(limits.extraProperties.isEmpty)
        #expect(Limits.defaultMemoryMax == .bytes(1 << 30))
        #expect(Limits.defaultTasksMax == .count(256))
    }

    @Test("default unit properties, in order")
    func defaultUnitProperties() {
        #expect(Limits().unitProperties == [
            UnitProperty("MemoryMax", .uint64(1_073_741_824)),
            UnitProperty("MemorySwapMax", .uint64(0)),
            UnitProperty("TasksMax", .uint64(256)),
        ])
    }

    @Test("default required controllers")
    func defaultControllers() {
        #expect(Limits().requiredControllers == ["memory", "pids"])
    }

    @Test("unlimited has no properties and needs no controllers")
    func unlimited() {
        let limits = Limits.unlimited
        #expect(limits.memoryMax == nil)
        #expect(limits.memorySwapMax == nil)
        #expect(limits.tasksMax == nil)
        #expect(limits.unitProperties.isEmpty)
        #expect(limits.requiredControllers.isEmpty)
    }

    // MARK: Memory and Tasks parsing

    @Test("Memory parses sizes, percentages and infinity", arguments: [
        ("512M", Limits.Memory.bytes(536_870_912)),
        ("1.5G", .bytes(1_610_612_736)),
        ("1073741824", .bytes(1_073_741_824)),
        ("0", .bytes(0)),
        ("50%", .permyriad(5000)),
        ("12.5%", .permyriad(1250)),
        ("infinity", .infinity),
        (" infinity ", .infinity),
    ])
    func memoryParsed(text: String, expected: Limits.Memory) throws {
        #expect(try Limits.Memory(text) == expected)
    }

    @Test("Memory rejects malformed values", arguments: ["", "1g", "-1", "101%", "lots", "18E"])
    func memoryRejected(text: String) {
        let error = corralError { () throws(CorralError) in _ = try Limits.Memory(text) }
        expectInvalid(error, quoting: text)
        #expect(error?.message.hasPrefix("invalid memory limit ") == true)
    }

    @Test("Tasks parses counts, percentages and infinity", arguments: [
        ("256", Limits.Tasks.count(256)),
        ("1", .count(1)),
        ("10%", .permyriad(1000)),
        ("infinity", .infinity),
    ])
    func tasksParsed(text: String, expected: Limits.Tasks) throws {
        #expect(try Limits.Tasks(text) == expected)
    }

    @Test("Tasks rejects zero and malformed values", arguments: ["0", "", "-1", "1.5", "256K", "many", "101%"])
    func tasksRejected(text: String) {
        let error = corralError { () throws(CorralError) in _ = try Limits.Tasks(text) }
        expectInvalid(error, quoting: text)
    }

    // MARK: unit properties

    @Test("memory percentages become MemoryMaxScale with systemd's rounding")
    func memoryPercentage() throws {
        var limits = Limits()
        try limits.set("MemoryMax=50%")
        #expect(limits.memoryMax == .permyriad(5000))
        // UINT32_SCALE_FROM_PERMYRIAD(5000) = (5000 * 4294967295 + 5000) / 10000
        #expect(limits.unitProperties.first == UnitProperty("MemoryMaxScale", .uint32(2_147_483_648)))
        try limits.set("MemoryMax=100%")
        #expect(limits.unitProperties.first == UnitProperty("MemoryMaxScale", .uint32(4_294_967_295)))
        try limits.set("MemoryMax=0%")
        #expect(limits.unitProperties.first == UnitProperty("MemoryMaxScale", .uint32(0)))
    }

    @Test("tasks percentages become TasksMaxScale")
    func tasksPercentage() throws {
        var limits = Limits()
        try limits.set("TasksMax=10%")
        #expect(limits.tasksMax == .permyriad(1000))
        #expect(limits.unitProperties.last == UnitProperty("TasksMaxScale", .uint32(429_496_730)))
        #expect(!limits.unitProperties.contains(where: { $0.name == "TasksMax" }))
    }

    @Test("infinity becomes UInt64.max")
    func infinity() throws {
        var limits = Limits()
        try limits.set("MemoryMax=infinity")
        try limits.set("MemorySwapMax=infinity")
        try limits.set("TasksMax=infinity")
        #expect(limits.unitProperties == [
            UnitProperty("MemoryMax", .uint64(.max)),
            UnitProperty("MemorySwapMax", .uint64(.max)),
            UnitProperty("TasksMax", .uint64(.max)),
        ])
    }

    @Test("CPU quota becomes CPUQuotaPerSecUSec", arguments: [
        ("50%", UInt64(500_000)),
        ("200%", 2_000_000),
        ("12.5%", 125_000),
    ])
    func cpuQuota(text: String, usec: UInt64) throws {
        var limits = Limits()
        try limits.set("CPUQuota=\(text)")
        #expect(limits.cpuQuota == usec / 100)
        #expect(limits.unitProperties.last == UnitProperty("CPUQuotaPerSecUSec", .uint64(usec)))
        #expect(limits.requiredControllers == ["memory", "pids", "cpu"])
    }

    @Test("Limits.cpuQuota parses and rejects")
    func cpuQuotaParser() throws {
        #expect(try Limits.cpuQuota("50%") == 5000)
        #expect(try Limits.cpuQuota("400%") == 40_000)
        for bad in ["0%", "50", "", "-5%"] {
            expectInvalid(corralError { () throws(CorralError) in _ = try Limits.cpuQuota(bad) }, quoting: bad)
        }
    }

    @Test("RuntimeMaxSec becomes RuntimeMaxUSec")
    func runtimeMax() throws {
        var limits = Limits()
        try limits.set("RuntimeMaxSec=1h 30min")
        #expect(limits.runtimeMax == 5_400_000_000)
        #expect(limits.unitProperties.last == UnitProperty("RuntimeMaxUSec", .uint64(5_400_000_000)))
        #expect(try Limits.timeSpan("30s") == 30_000_000)
        expectInvalid(corralError { () throws(CorralError) in _ = try Limits.timeSpan("0") }, quoting: "0")
        expectInvalid(corralError { () throws(CorralError) in try limits.set("RuntimeMaxSec=soon") }, quoting: "soon")
    }

    @Test("all built-in properties, in their stable order")
    func fullOrder() throws {
        var limits = Limits()
        try limits.set("RuntimeMaxSec=30s")
        try limits.set("CPUQuota=50%")
        try limits.set("TasksMax=64")
        try limits.set("MemorySwapMax=1M")
        try limits.set("MemoryHigh=400M")
        try limits.set("MemoryMax=512M")
        try limits.set("Description=hello")
        #expect(limits.unitProperties == [
            UnitProperty("MemoryMax", .uint64(536_870_912)),
            UnitProperty("MemoryHigh", .uint64(419_430_400)),
            UnitProperty("MemorySwapMax", .uint64(1_048_576)),
            UnitProperty("TasksMax", .uint64(64)),
            UnitProperty("CPUQuotaPerSecUSec", .uint64(500_000)),
            UnitProperty("RuntimeMaxUSec", .uint64(30_000_000)),
            UnitProperty("Description", .string("hello")),
        ])
    }

    // MARK: set

    @Test("set MemoryHigh")
    func setMemoryHigh() throws {
        var limits = Limits()
        try limits.set("MemoryHigh=400M")
        #expect(limits.memoryHigh == .bytes(419_430_400))
        #expect(limits.unitProperties == [
            UnitProperty("MemoryMax", .uint64(1_073_741_824)),
            UnitProperty("MemoryHigh", .uint64(419_430_400)),
            UnitProperty("MemorySwapMax", .uint64(0)),
            UnitProperty("TasksMax", .uint64(256)),
        ])
    }

    @Test("set CPUWeight adds an extra property and needs cpu")
    func setCPUWeight() throws {
        var limits = Limits()
        try limits.set("CPUWeight=100")
        #expect(limits.extraProperties == [UnitProperty("CPUWeight", .uint64(100))])
        #expect(limits.unitProperties.last == UnitProperty("CPUWeight", .uint64(100)))
        #expect(limits.requiredControllers == ["memory", "pids", "cpu"])
    }

    @Test("set OOMPolicy")
    func setOOMPolicy() throws {
        var limits = Limits()
        try limits.set("OOMPolicy=continue")
        #expect(limits.extraProperties == [UnitProperty("OOMPolicy", .string("continue"))])
    }

    @Test("set Delegate and accounting flags")
    func setDelegate() throws {
        var limits = Limits()
        try limits.set("Delegate=yes")
        try limits.set("MemoryAccounting=off")
        #expect(limits.extraProperties == [
            UnitProperty("Delegate", .bool(true)),
            UnitProperty("MemoryAccounting", .bool(false)),
        ])
    }

    @Test("MemoryLow on unlimited limits needs the memory controller")
    func memoryLowController() throws {
        var limits = Limits.unlimited
        try limits.set("MemoryLow=64M")
        #expect(limits.unitProperties == [UnitProperty("MemoryLow", .uint64(67_108_864))])
        #expect(limits.requiredControllers == ["memory"])
        try limits.set("MemoryMin=10%")
        #expect(limits.unitProperties.last == UnitProperty("MemoryMinScale", .uint32(429_496_730)))
    }

    @Test("unlimited with only a CPU quota needs only cpu")
    func cpuOnlyController() throws {
        var limits = Limits.unlimited
        try limits.set("CPUQuota=150%")
        #expect(limits.unitProperties == [UnitProperty("CPUQuotaPerSecUSec", .uint64(1_500_000))])
        #expect(limits.requiredControllers == ["cpu"])
    }

    @Test("IOWeight needs the io controller")
    func ioWeightController() throws {
        var limits = Limits.unlimited
        try limits.set("IOWeight=200")
        #expect(limits.unitProperties == [UnitProperty("IOWeight", .uint64(200))])
        #expect(limits.requiredControllers == ["io"])
    }

    // MARK: rejections

    @Test("set rejects an unknown property and lists the supported ones")
    func setUnknown() {
        let error = corralError { () throws(CorralError) in
            var limits = Limits()
            try limits.set("Bogus=1")
        }
        expectInvalid(error, quoting: "Bogus")
        #expect(error?.message.contains("supported:") == true)
        for name in ["MemoryMax", "MemoryHigh", "TasksMax", "CPUQuota", "CPUWeight", "RuntimeMaxSec", "OOMPolicy", "Delegate"] {
            #expect(error?.message.contains(name) == true, "\(name) missing from: \(error?.message ?? "")")
        }
    }

    @Test("set rejects malformed assignments, quoting them", arguments: [
        ("=1", "=1"),
        ("MemoryMax", "MemoryMax"),
        ("", ""),
        ("CPUWeight=0", "0"),
        ("CPUWeight=10001", "10001"),
        ("CPUWeight=x", "x"),
        ("OOMPolicy=maybe", "maybe"),
        ("Delegate=perhaps", "perhaps"),
        ("MemoryMax=1g", "1g"),
        ("MemoryHigh=", ""),
        ("TasksMax=0", "0"),
        ("CPUQuota=50", "50"),
    ])
    func setRejected(assignment: String, quoted: String) {
        var limits = Limits()
        let before = limits
        let error = corralError { () throws(CorralError) in try limits.set(assignment) }
        expectInvalid(error, quoting: quoted)
        #expect(limits == before)
    }

    @Test("the error names the field that was wrong")
    func errorNamesField() {
        var limits = Limits()
        let error = corralError { () throws(CorralError) in try limits.set("CPUWeight=0") }
        #expect(error?.message == "invalid CPUWeight '0': expected a weight from 1 to 10000")
        #expect(error?.description == error?.message)
    }

    @Test("a MemoryLow or MemoryMin percentage alone needs the memory controller", arguments: ["MemoryLow=10%", "MemoryMin=25%"])
    func memoryScaleController(assignment: String) throws {
        var limits = Limits.unlimited
        try limits.set(assignment)
        #expect(limits.unitProperties.count == 1)
        #expect(limits.requiredControllers == ["memory"])
    }

    @Test("a huge CPU quota is refused or converted without overflow")
    func hugeCPUQuota() async {
        await #expect(processExitsWith: .success) {
            var limits = Limits()
            // 10^16 % of one CPU: 10^18 permyriad, 10^20 µs per second, which does not fit in a UInt64.
            if (try? limits.set("CPUQuota=10000000000000000%")) != nil {
                _ = limits.unitProperties
            }
        }
    }
}
