/// One systemd unit property as sent in StartTransientUnit's `a(sv)` array.
public struct UnitProperty: Sendable, Equatable {
    /// A D-Bus value of one of the signatures scope properties use.
    public enum Value: Sendable, Equatable {
        case string(String)
        case bool(Bool)
        case uint64(UInt64)
        case uint32(UInt32)
        case int32(Int32)
        case strings([String])
        case pids([UInt32])
    }

    public var name: String
    public var value: Value

    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }
}
