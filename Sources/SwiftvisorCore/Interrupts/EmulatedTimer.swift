/// An EL1 generic timer emulated in software (CNTP_CTL/CVAL/TVAL, Arm ARM D11.2.4), for the
/// guest's physical timer: its accesses trap (CNTHCTL_EL2.EL1PCEN = 0) and land here.
public struct EmulatedTimer: Equatable {
    /// CTL.ENABLE (bit 0) and CTL.IMASK (bit 1) as the guest wrote them.
    public private(set) var control: UInt64 = 0
    public private(set) var compareValue: UInt64 = 0
    /// Raised already for the current programming: a level interrupt is raised once, and
    /// again only after the guest reprograms the timer.
    public private(set) var raised = false

    public init() {}

    public enum Register: Equatable { case control, compareValue, timerValue }

    /// CNTP_CTL_EL0 is (3,3,14,2,1), CNTP_CVAL_EL0 (3,3,14,2,2), CNTP_TVAL_EL0 (3,3,14,2,0).
    public static func register(_ a: SystemRegisterAccess) -> Register? {
        guard a.op0 == 3, a.op1 == 3, a.crn == 14, a.crm == 2 else { return nil }
        switch a.op2 { case 0: return .timerValue; case 1: return .control; case 2: return .compareValue; default: return nil }
    }

    var enabled: Bool { TimerControl(rawValue: control).enable }
    var masked: Bool { TimerControl(rawValue: control).imask }

    public func read(_ r: Register, now: UInt64) -> UInt64 {
        switch r {
        case .control:
            var c = TimerControl(rawValue: control)
            c.istatus = enabled && now >= compareValue
            return c.rawValue
        case .compareValue: return compareValue
        // TVAL: the signed 32-bit distance to CVAL.
        case .timerValue: return (compareValue &- now) & 0xFFFF_FFFF
        }
    }

    public mutating func write(_ r: Register, _ value: UInt64, now: UInt64) {
        switch r {
        case .control: control = value & TimerControl.writable
        case .compareValue: compareValue = value
        case .timerValue: compareValue = now &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: value)))
        }
        raised = false
    }

    /// The counter value at which it fires, or nil when it cannot.
    public var deadline: UInt64? { enabled && !masked && !raised ? compareValue : nil }

    /// True (once) when the interrupt should be raised at `now`.
    public mutating func fire(now: UInt64) -> Bool {
        guard let d = deadline, now >= d else { return false }
        raised = true
        return true
    }
}
