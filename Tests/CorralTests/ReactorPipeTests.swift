@testable import Corral
import Foundation
import Testing

/// The reactor reads pipes for every server of a process. A stream that ended has closed its descriptor, and the
/// number is free for anyone: the end of one stream must never close or unwatch another owner's pipe that took it.
@Suite struct ReactorPipeTests {
    @Test(.timeLimit(.minutes(1))) func anEndedStreamNeverClosesAPipeThatReusedItsNumber() async throws {
        var reusedChecked = 0
        for _ in 0..<400 {
            var first: [Int32] = [0, 0]
            try #require(pipe(&first) == 0)
            let stream = try #require(Reactor.shared.readStream(ReactorPipe(first[0])))
            close(first[1])
            for await _ in stream {}
            // The stream's descriptor is closed; a new pipe now takes the lowest free number, often the same one,
            // while the stream's end may still be on its way through the reactor.
            var second: [Int32] = [0, 0]
            try #require(pipe(&second) == 0)
            let other = try #require(Reactor.shared.readStream(ReactorPipe(second[0])))
            if second[0] == first[0] { reusedChecked += 1 }
            try await Task.sleep(for: .milliseconds(2))
            #expect(fcntl(second[0], F_GETFD) >= 0, "the ended stream closed descriptor \(second[0]), reused since")
            close(second[1])
            for await _ in other {}
        }
        #expect(reusedChecked > 0, "no descriptor number was reused: nothing was checked")
    }

    @Test func aPipeIsStreamedOnce() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[1]) }
        let pipe = ReactorPipe(ends[0])
        #expect(Reactor.shared.readStream(pipe) != nil)
        #expect(Reactor.shared.readStream(pipe) == nil, "a second reader would share (and double-close) the descriptor")
    }
}
