import Synchronization

/// The last few KiB of a stream (a server's stderr), kept so a failure can say what the server said last, e.g.
/// "N8N_API_URL is not set".
public final class TailBuffer: Sendable {
    private let capacity: Int
    private let bytes = Mutex<[UInt8]>([])

    public init(capacity: Int = 4096) { self.capacity = capacity }

    public func append(_ chunk: [UInt8]) {
        bytes.withLock { buffer in
            buffer += chunk
            if buffer.count > capacity { buffer.removeFirst(buffer.count - capacity) }
        }
    }

    /// The last `count` non-empty lines.
    public func lastLines(_ count: Int = 10) -> [String] {
        let text = String(decoding: bytes.withLock { $0 }, as: UTF8.self)
        return Array(text.split(separator: "\n").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }.suffix(count))
    }
}
