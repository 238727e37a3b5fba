/// An EL1 generic timer emulated in software (CNTP_CTL/CVAL/TVAL, Arm ARM D11.2.4), for the
/// guest's physical timer: its accesses trap (CNTHCTL_EL2.EL1PCEN = 0) and land here.
public struct EmulatedTimer: Equatable {
    /// CTL.ENABLE (bit 0) and CTL.IMASK (bit 1) as the guest wrote them.
    public private(set) var control: UInt64 = 0
    public private(set) var compareValue: UInt64 = 0
    /// The interrupt line as last sampled: high while the timer condition holds with the
    /// timer enabled and unmasked (Arm ARM D11.2.4). The guest's PPI is pending exactly then.
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
    }

    /// The timer's interrupt output at `now`: ENABLE, IMASK clear and the condition met.
    public func output(now: UInt64) -> Bool { enabled && !masked && now >= compareValue }

    /// Samples the output (after the guest wrote a register): the line's new level.
    public mutating func sample(now: UInt64) -> Bool {
        raised = output(now: now)
        return raised
    }

    /// The counter value at which the line rises, or nil when it cannot (or is high).
    public var deadline: UInt64? { enabled && !masked && !raised ? compareValue : nil }

    /// True (once) when the line rises at `now`; it stays high until a write lowers it.
    public mutating func fire(now: UInt64) -> Bool {
        guard let d = deadline, now >= d else { return false }
        raised = true
        return true
    }
}
