internal import CSystemdShim
internal import Glibc
import Synchronization

/// A connection to the system or the user's systemd manager, shared by every server this process starts.
///
/// All calls are asynchronous and may be made from many tasks at once: none waits behind another's job.
public final class SystemdBus: Sendable {
    /// Which manager to talk to.
    public typealias Manager = ServiceManager

    /// One unit as ListUnitsByPatterns reports it.
    public struct UnitStatus: Sendable, Equatable {
        public var name: String
        public var activeState: String
        public var subState: String
        public var description: String
    }

    public let manager: Manager
    /// What the connection reached, e.g. "the user manager (/run/user/1000/systemd/private)".
    public let endpoint: String
    nonisolated(unsafe) private let handle: OpaquePointer

    private static let connections = Mutex<[Manager: SystemdBus]>([:])

    /// The process-wide connection to `manager`, opened on first use.
    public static func shared(_ manager: Manager = .automatic) throws(CorralError) -> SystemdBus {
        let result: Result<SystemdBus, CorralError> = connections.withLock { cache in
            if let bus = cache[manager] { return .success(bus) }
            do throws(CorralError) {
                let bus = try SystemdBus(manager)
                cache[manager] = bus
                return .success(bus)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private init(_ manager: Manager) throws(CorralError) {
        var bus: OpaquePointer?
        var endpoint = [CChar](repeating: 0, count: 256)
        var failure = cs_result()
        let status = cs_bus_open(manager == .system ? CS_BUS_SYSTEM : CS_BUS_USER, &bus, &endpoint, endpoint.count, &failure)
        let reached = String(decoding: endpoint.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard status >= 0, let bus else { throw Self.unreachable(manager, reached, -status) }
        self.manager = manager
        self.endpoint = reached
        self.handle = bus
    }

    deinit { cs_bus_close(handle) }

    private static func unreachable(_ manager: Manager, _ endpoint: String, _ errno: Int32) -> CorralError {
        let what = endpoint.isEmpty ? "the \(manager.rawValue) manager" : endpoint
        var advice: String
        switch manager {
        case .user:
            advice = "There is no systemd --user for UID \(getuid()): log in through a session manager (pam_systemd), enable lingering with `loginctl enable-linger \(UserAccount.currentName)`, or run as root with --system."
        case .system:
            advice = geteuid() == 0
                ? "Is systemd PID 1 on this host? Corral needs systemd (and cgroup v2) to create scopes."
                : "Only root may start system scopes; run without --system to use your user manager."
        }
        if errno == EACCES || errno == EPERM { advice = "Permission denied by the bus. " + advice }
        return CorralError(.managerUnavailable, "cannot connect to \(what): \(errnoText(errno)). \(advice)",
                           stage: "connect", errno: errno)
    }

    // MARK: Operations

    /// Creates a transient unit and waits for its start job, the way systemd-run does. `auxiliary` is a second
    /// transient unit created in the same call (one the first refers to, such as its own slice); it starts with it.
    public func startTransientUnit(_ unit: String, properties: [UnitProperty],
                                   auxiliary: (unit: String, properties: [UnitProperty])? = nil) async throws(CorralError) {
        let reply = await PropertyArray.with(properties) { array, count in
            await PropertyArray.with(auxiliary?.properties ?? []) { auxArray, auxCount in
                await call { done, context in
                    cs_bus_start_transient_unit(handle, unit, array, count, auxiliary?.unit, auxArray, auxCount, done, context)
                }
            }
        }
        try check(reply, "StartTransientUnit", unit: unit, verb: "start")
    }

    /// Stops a unit and waits for the stop job. A unit that is already gone is not an error.
    public func stopUnit(_ unit: String) async throws(CorralError) {
        let reply = await call { done, context in cs_bus_stop_unit(handle, unit, done, context) }
        if reply.errorName == "org.freedesktop.systemd1.NoSuchUnit" { return }
        try check(reply, "StopUnit", unit: unit, verb: "stop")
    }

    /// Sends `signal` to the unit's processes (`who`: "all", "main" or "control").
    public func killUnit(_ unit: String, who: String = "all", signal: Int32) async throws(CorralError) {
        let reply = await call { done, context in cs_bus_kill_unit(handle, unit, who, signal, done, context) }
        try check(reply, "KillUnit", unit: unit, verb: "signal")
    }

    /// Forgets a failed unit so its name can be used again.
    public func resetFailedUnit(_ unit: String) async throws(CorralError) {
        let reply = await call { done, context in cs_bus_reset_failed_unit(handle, unit, done, context) }
        try check(reply, "ResetFailedUnit", unit: unit, verb: "reset")
    }

    /// Makes the manager reread unit files, like `systemctl daemon-reload`; returns when it has.
    public func reload() async throws(CorralError) {
        let reply = await call { done, context in cs_bus_reload(handle, done, context) }
        try check(reply, "Reload", unit: nil, verb: "reload")
    }

    /// Changes properties of a loaded unit (for slices: their aggregate limits).
    public func setUnitProperties(_ unit: String, runtime: Bool, _ properties: [UnitProperty]) async throws(CorralError) {
        let reply = await PropertyArray.with(properties) { array, count in
            await call { done, context in
                cs_bus_set_unit_properties(handle, unit, runtime ? 1 : 0, array, count, done, context)
            }
        }
        try check(reply, "SetUnitProperties", unit: unit, verb: "configure")
    }

    /// A string property of a unit (or of the manager when `unit` is nil).
    public func stringProperty(_ name: String, interface: String = "org.freedesktop.systemd1.Manager",
                               unit: String? = nil) async throws(CorralError) -> String {
        try await property(name, interface: interface, unit: unit).text ?? ""
    }

    /// A numeric or boolean property of a unit (or of the manager when `unit` is nil).
    public func numberProperty(_ name: String, interface: String = "org.freedesktop.systemd1.Manager",
                               unit: String? = nil) async throws(CorralError) -> UInt64 {
        try await property(name, interface: interface, unit: unit).number
    }

    /// Units whose names match any of the glob patterns, in any state systemd still knows.
    public func listUnits(matching patterns: [String]) async throws(CorralError) -> [UnitStatus] {
        let copies = CStringArray(patterns)
        let reply = await call { done, context in
            cs_bus_list_units(handle, copies.constPointers, patterns.count, done, context)
        }
        withExtendedLifetime(copies) {}
        try check(reply, "ListUnitsByPatterns", unit: nil, verb: "list")
        return (reply.text ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4 else { return nil }
            return UnitStatus(name: fields[0], activeState: fields[1], subState: fields[2], description: fields[3])
        }
    }

    private func property(_ name: String, interface: String, unit: String?) async throws(CorralError) -> Reply {
        let reply = await call { done, context in
            cs_bus_get_property(handle, unit, interface, name, done, context)
        }
        try check(reply, "Get(\(name))", unit: unit, verb: "read")
        return reply
    }

    // MARK: Bridging completions

    /// A completed bus operation, copied out of the C callback.
    struct Reply: Sendable {
        var status: Int32
        var errorName: String?
        var errorMessage: String?
        var text: String?
        var number: UInt64 = 0
    }

    private final class Waiter: Sendable {
        let continuation: CheckedContinuation<Reply, Never>
        init(_ continuation: CheckedContinuation<Reply, Never>) { self.continuation = continuation }
    }

    private func call(_ start: (cs_completion, UnsafeMutableRawPointer) -> Int32) async -> Reply {
        await withCheckedContinuation { continuation in
            let context = Unmanaged.passRetained(Waiter(continuation)).toOpaque()
            let status = start({ context, result in
                let waiter = Unmanaged<Waiter>.fromOpaque(context!).takeRetainedValue()
                let r = result.pointee
                waiter.continuation.resume(returning: Reply(
                    status: r.status, errorName: r.error_name.map { String(cString: $0) },
                    errorMessage: r.error_message.map { String(cString: $0) }, text: r.text.map { String(cString: $0) },
                    number: r.number))
            }, context)
            if status < 0 {
                Unmanaged<Waiter>.fromOpaque(context).release()
                continuation.resume(returning: Reply(status: status))
            }
        }
    }

    private func check(_ reply: Reply, _ stage: String, unit: String?, verb: String) throws(CorralError) {
        guard reply.status < 0 else { return }
        let target = unit.map { "unit \($0)" } ?? "the request"
        if let name = reply.errorName {
            throw CorralError(.unitFailed, "systemd (\(endpoint)) refused to \(verb) \(target): \(reply.errorMessage ?? name) [\(name)]",
                              stage: stage, errno: -reply.status, busErrorName: name)
        }
        if reply.status == -EIO, let result = reply.text {
            throw CorralError(.unitFailed, "the \(verb) job for \(target) finished with result '\(result)' (see `journalctl -u \(unit ?? "")`)",
                              stage: stage, errno: EIO)
        }
        let code: CorralError.Code = [ECONNRESET, ENOTCONN, ECONNREFUSED, ENOENT].contains(-reply.status) ? .managerUnavailable : .unitFailed
        throw CorralError(code, "could not \(verb) \(target) through \(endpoint): \(errnoText(-reply.status))",
                          stage: stage, errno: -reply.status)
    }
}

/// The C view of a property list, valid for the duration of one call.
private enum PropertyArray {
    static func with<T>(_ properties: [UnitProperty], _ body: (UnsafePointer<cs_property>, Int) async -> T) async -> T {
        var keep: [AnyObject] = []
        var array: [cs_property] = []
        for property in properties {
            let name = CStringArray([property.name])
            keep.append(name)
            var c = cs_property(name: name[0], type: CS_PROP_STRING, string: nil, number: 0, strings: nil, pids: nil, count: 0)
            switch property.value {
            case .string(let value):
                let copy = CStringArray([value])
                keep.append(copy)
                c.string = copy[0]
            case .bool(let value): c.type = CS_PROP_BOOL; c.number = value ? 1 : 0
            case .uint64(let value): c.type = CS_PROP_UINT64; c.number = value
            case .uint32(let value): c.type = CS_PROP_UINT32; c.number = UInt64(value)
            case .int32(let value): c.type = CS_PROP_INT32; c.number = UInt64(bitPattern: Int64(value))
            case .strings(let values):
                let copies = CStringArray(values)
                keep.append(copies)
                c.type = CS_PROP_STRINGS
                c.count = values.count
                c.strings = copies.constPointers
            case .pids(let pids):
                let buffer = PidBuffer(pids)
                keep.append(buffer)
                c.type = CS_PROP_PIDS
                c.count = pids.count
                c.pids = UnsafePointer(buffer.pointer)
            }
            array.append(c)
        }
        let count = array.count
        let pointer = UnsafeMutablePointer<cs_property>.allocate(capacity: max(count, 1))
        pointer.initialize(from: array, count: count)
        defer { pointer.deallocate() }
        let result = await body(pointer, count)
        withExtendedLifetime(keep) {}
        return result
    }

    private final class PidBuffer {
        let pointer: UnsafeMutablePointer<UInt32>
        init(_ pids: [UInt32]) {
            pointer = .allocate(capacity: max(pids.count, 1))
            pointer.initialize(from: pids, count: pids.count)
        }
        deinit { pointer.deallocate() }
    }
}
