/// `struct vcpu_runstate_info` (public/vcpu.h): state (int), state_entry_time, time[4]; 48 bytes.
/// Times are nanoseconds of Xen's system time.
public struct XenRunstate: Equatable {
    public enum State: Int { case running = 0, runnable = 1, blocked = 2, offline = 3 }
    /// XEN_RUNSTATE_UPDATE: set in state_entry_time while the area is being written.
    public static let updateFlag: UInt64 = 1 << 63
    public static let size = 48

    public var state: State = .offline
    public var entryTime: UInt64 = 0
    public var time: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    public init() {}

    /// Enters `state` at `now`, charging the time since the last change to the old state.
    public mutating func enter(_ new: State, at now: UInt64) {
        let spent = now >= entryTime ? now - entryTime : 0
        switch state {
        case .running: time.0 &+= spent
        case .runnable: time.1 &+= spent
        case .blocked: time.2 &+= spent
        case .offline: time.3 &+= spent
        }
        state = new
        entryTime = now
    }

    /// The 48 bytes a guest reads, with XEN_RUNSTATE_UPDATE in state_entry_time if `updating`.
    public func bytes(updating: Bool = false) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        func put(_ at: Int, _ v: UInt64) { for i in 0..<8 { out[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(0, UInt64(state.rawValue))   // int state, then 4 bytes of padding
        put(8, entryTime | (updating ? Self.updateFlag : 0))
        put(16, time.0); put(24, time.1); put(32, time.2); put(40, time.3)
        return out
    }

    public static func == (a: XenRunstate, b: XenRunstate) -> Bool {
        a.state == b.state && a.entryTime == b.entryTime && a.time.0 == b.time.0 && a.time.1 == b.time.1
            && a.time.2 == b.time.2 && a.time.3 == b.time.3
    }
}
