/// CPTR_EL2, Architectural Feature Trap Register (Arm ARM D19.2.30). Its layout depends on
/// HCR_EL2.E2H: trap bits (TFP, TZ, TSM) with E2H = 0, enable fields in CPACR_EL1's layout
/// (FPEN, ZEN, SMEN) with E2H = 1.
public struct CPTR: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    // E2H = 0.
    /// Bits 13, 9 and 7:0 are RES1 with E2H = 0.
    public static let res1E2H0: UInt64 = 1 << 13 | 1 << 9 | 0xFF
    /// TZ, bit 8 (E2H = 0): trap SVE.
    public var tz: Bool { get { bit(rawValue, 8) } set { rawValue = setting(rawValue, 8, newValue) } }
    /// TFP, bit 10 (E2H = 0): trap FP/SIMD.
    public var tfp: Bool { get { bit(rawValue, 10) } set { rawValue = setting(rawValue, 10, newValue) } }
    /// TSM, bit 12 (E2H = 0): trap SME.
    public var tsm: Bool { get { bit(rawValue, 12) } set { rawValue = setting(rawValue, 12, newValue) } }
    /// TTA, bit 20 (E2H = 0): trap the trace registers.
    public var tta: Bool { get { bit(rawValue, 20) } set { rawValue = setting(rawValue, 20, newValue) } }

    // E2H = 1.
    /// ZEN, bits 17:16 (E2H = 1): 0b11 = SVE not trapped.
    public var zen: UInt64 { get { bits(rawValue, 17, 16) } set { rawValue = setting(rawValue, 17, 16, to: newValue) } }
    /// FPEN, bits 21:20 (E2H = 1): 0b11 = FP/SIMD not trapped.
    public var fpen: UInt64 { get { bits(rawValue, 21, 20) } set { rawValue = setting(rawValue, 21, 20, to: newValue) } }
    /// SMEN, bits 25:24 (E2H = 1): 0b11 = SME not trapped.
    public var smen: UInt64 { get { bits(rawValue, 25, 24) } set { rawValue = setting(rawValue, 25, 24, to: newValue) } }
    /// TTA, bit 28 (E2H = 1): trap the trace registers (CPACR_EL1.TTA's place).
    public var ttaE2H: Bool { get { bit(rawValue, 28) } set { rawValue = setting(rawValue, 28, newValue) } }

    /// FP/SIMD not trapped; SVE and SME trapped (neither is virtualised) and trace registers
    /// trapped (TTA: the guest gets UNDEF, as under Xen and KVM), in `regime`'s layout.
    public static func guest(_ regime: EL2Regime) -> CPTR {
        switch regime {
        case .el2:
            var c = CPTR(rawValue: res1E2H0)
            c.tfp = false; c.tz = true; c.tsm = true
            c.tta = true
            return c
        case .el2And0:
            var c = CPTR()
            c.fpen = 0b11; c.zen = 0; c.smen = 0
            c.ttaE2H = true
            return c
        }
    }
}
