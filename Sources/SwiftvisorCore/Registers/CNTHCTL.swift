/// CNTHCTL_EL2, Counter-timer Hypervisor Control (Arm ARM D19.2.28). Which bits let EL1 reach
/// the physical counter and timer moves with HCR_EL2.E2H.
public struct CNTHCTL: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    /// EL1PCTEN: EL1 and EL0 may read the physical counter (bit 0 with E2H = 0, 10 with E2H = 1).
    public func el1pcten(_ regime: EL2Regime) -> Bool { bit(rawValue, Self.el1pctenBit(regime)) }
    public mutating func setEL1PCTEN(_ on: Bool, _ regime: EL2Regime) { rawValue = setting(rawValue, Self.el1pctenBit(regime), on) }
    /// EL1PCEN: EL1 and EL0 may use the physical timer (bit 1 with E2H = 0, 11 with E2H = 1).
    public func el1pcen(_ regime: EL2Regime) -> Bool { bit(rawValue, Self.el1pcenBit(regime)) }
    public mutating func setEL1PCEN(_ on: Bool, _ regime: EL2Regime) { rawValue = setting(rawValue, Self.el1pcenBit(regime), on) }

    static func el1pctenBit(_ regime: EL2Regime) -> Int { regime == .el2 ? 0 : 10 }
    static func el1pcenBit(_ regime: EL2Regime) -> Int { regime == .el2 ? 1 : 11 }

    /// Every guest's: it may read the physical counter, but its physical timer traps
    /// (EL1PCEN clear) and is emulated (`EmulatedTimer`).
    public static func guest(_ regime: EL2Regime) -> CNTHCTL {
        var c = CNTHCTL()
        c.setEL1PCTEN(true, regime)
        c.setEL1PCEN(false, regime)
        return c
    }
}
