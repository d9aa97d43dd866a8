@testable import Corral
import Testing

@Suite("Cgroup")
struct CgroupTests {
    @Test("parseKeyed reads flat keyed files")
    func parseKeyed() {
        #expect(Cgroup.parseKeyed("oom 1\noom_kill 2\n") == ["oom": 1, "oom_kill": 2])
        #expect(Cgroup.parseKeyed("usage_usec 123\nuser_usec 100\nsystem_usec 23") ==
            ["usage_usec": 123, "user_usec": 100, "system_usec": 23])
        #expect(Cgroup.parseKeyed("").isEmpty)
    }

    @Test("parseKeyed ignores malformed lines")
    func parseKeyedMalformed() {
        let text = "low 0\nhigh\nmax x\nmax -1\nthree parts here\n\noom 5\nbig 18446744073709551615\nhuge 18446744073709551616\n"
        #expect(Cgroup.parseKeyed(text) == ["low": 0, "oom": 5, "big": .max])
    }

    @Test("a repeated key keeps its last value")
    func parseKeyedRepeated() {
        #expect(Cgroup.parseKeyed("a 1\na 2") == ["a": 2])
    }
}
