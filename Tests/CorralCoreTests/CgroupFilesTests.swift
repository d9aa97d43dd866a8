@testable import CorralCore
import Testing

@Suite("Cgroup")
struct CgroupTests {
    @Test("parseKeyed reads flat keyed files")
    func parseKeyed() {
        #expect(CgroupFiles.keyed("oom 1\noom_kill 2\n") == ["oom": 1, "oom_kill": 2])
        #expect(CgroupFiles.keyed("usage_usec 123\nuser_usec 100\nsystem_usec 23") ==
            ["usage_usec": 123, "user_usec": 100, "system_usec": 23])
        #expect(CgroupFiles.keyed("").isEmpty)
    }

    @Test("parseKeyed ignores malformed lines")
    func parseKeyedMalformed() {
        let text = "low 0\nhigh\nmax x\nmax -1\nthree parts here\n\noom 5\nbig 18446744073709551615\nhuge 18446744073709551616\n"
        #expect(CgroupFiles.keyed(text) == ["low": 0, "oom": 5, "big": .max])
    }

    @Test("a repeated key keeps its last value")
    func parseKeyedRepeated() {
        #expect(CgroupFiles.keyed("a 1\na 2") == ["a": 2])
    }
}
