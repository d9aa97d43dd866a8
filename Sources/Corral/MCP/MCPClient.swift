/// Speaks MCP's stdio transport to a server started with piped stdin and stdout: JSON-RPC 2.0, one message per line.
/// Enough for a preflight (`corral check`) and for a gateway's own health probes; not a full MCP client.
public final class MCPClient: Sendable {
    /// What a server said about itself in its initialize result.
    public struct ServerInfo: Sendable, Equatable {
        public var name: String
        public var version: String
        public var protocolVersion: String
    }

    /// The protocol version this client proposes.
    public static let protocolVersion = "2025-06-18"

    private let server: ServerProcess
    private let lines: Lines

    /// A client on `server`'s stdin and stdout (both configured as `.pipe`).
    public init(_ server: ServerProcess) throws(CorralError) {
        self.server = server
        self.lines = Lines(try server.standardOutputBytes())
    }

    /// initialize, then the initialized notification: the MCP handshake.
    public func initialize(clientName: String = "corral", clientVersion: String = "0.1.0") async throws(CorralError) -> ServerInfo {
        let result = try await request("initialize", params: .object([
            .init("protocolVersion", .string(Self.protocolVersion)),
            .init("capabilities", .object([])),
            .init("clientInfo", .object([.init("name", .string(clientName)), .init("version", .string(clientVersion))])),
        ]))
        try await notify("notifications/initialized")
        return ServerInfo(name: result["serverInfo"]?["name"]?.stringValue ?? "",
                          version: result["serverInfo"]?["version"]?.stringValue ?? "",
                          protocolVersion: result["protocolVersion"]?.stringValue ?? "")
    }

    /// tools/list: the names of the server's tools (following pagination).
    public func listTools() async throws(CorralError) -> [String] {
        var names: [String] = []
        var cursor: String?
        repeat {
            let params: JSON = cursor.map { .object([.init("cursor", .string($0))]) } ?? .object([])
            let result = try await request("tools/list", params: params)
            names += (result["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            cursor = result["nextCursor"]?.stringValue
        } while cursor != nil
        return names
    }

    /// Sends a request and returns its result; a JSON-RPC error becomes a thrown error. Notifications and requests
    /// from the server that arrive meanwhile are skipped.
    public func request(_ method: String, params: JSON) async throws(CorralError) -> JSON {
        let id = lines.nextID()
        try await send(.object([.init("jsonrpc", .string("2.0")), .init("id", JSON(id)), .init("method", .string(method)),
                                .init("params", params)]))
        while true {
            guard let line = await lines.next() else {
                throw CorralError(.unitFailed, "the server closed its stdout before answering \(method)", stage: method)
            }
            guard let message = try? JSON(parsing: line) else {
                throw CorralError(.unitFailed, "the server wrote something that is not JSON-RPC to stdout: \(line.prefix(200))", stage: method)
            }
            guard message["id"] == JSON(id), message["method"] == nil else { continue }
            if let error = message["error"] {
                throw CorralError(.unitFailed, "the server answered \(method) with error \(error["code"]?.compactText ?? "?"): \(error["message"]?.stringValue ?? "")", stage: method)
            }
            return message["result"] ?? .null
        }
    }

    /// Sends a notification.
    public func notify(_ method: String, params: JSON? = nil) async throws(CorralError) {
        var message = JSON.object([.init("jsonrpc", .string("2.0")), .init("method", .string(method))])
        if let params { message["params"] = params }
        try await send(message)
    }

    private func send(_ message: JSON) async throws(CorralError) {
        try await server.writeStandardInput(Array((message.compactText + "\n").utf8))
    }

    /// Newline-delimited messages from the server's stdout.
    private final class Lines: @unchecked Sendable {
        // Used by one request at a time: MCPClient's requests are sequential, as a handshake is.
        private var iterator: AsyncStream<[UInt8]>.Iterator
        private var buffer: [UInt8] = []
        private var counter = 0

        init(_ stream: AsyncStream<[UInt8]>) { iterator = stream.makeAsyncIterator() }

        func nextID() -> Int {
            counter += 1
            return counter
        }

        func next() async -> String? {
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self)
                    buffer.removeSubrange(...newline)
                    if line.trimmingWhitespace().isEmpty { continue }
                    return line
                }
                guard let chunk = await iterator.next(isolation: nil) else { return nil }
                buffer += chunk
            }
        }
    }
}
