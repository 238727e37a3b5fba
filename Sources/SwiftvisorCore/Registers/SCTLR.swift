/// SCTLR_EL2 / SCTLR_EL1, System Control Register (Arm ARM D19.2.121, D19.2.122). With
/// HCR_EL2.E2H = 0, SCTLR_EL2 has its own layout in which the bits below that belong to EL0
/// only are RES1; with E2H = 1 it takes SCTLR_EL1's layout, where those bits have names.
public struct SCTLR: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    /// M, bit 0: stage-1 MMU enable.
    public var m: Bool { get { bit(rawValue, 0) } set { rawValue = setting(rawValue, 0, newValue) } }
    /// A, bit 1: alignment check.
    public var a: Bool { get { bit(rawValue, 1) } set { rawValue = setting(rawValue, 1, newValue) } }
    /// C, bit 2: data accesses cacheable.
    public var c: Bool { get { bit(rawValue, 2) } set { rawValue = setting(rawValue, 2, newValue) } }
    /// SA, bit 3: SP alignment check.
    public var sa: Bool { get { bit(rawValue, 3) } set { rawValue = setting(rawValue, 3, newValue) } }
    /// I, bit 12: instruction accesses cacheable.
    public var i: Bool { get { bit(rawValue, 12) } set { rawValue = setting(rawValue, 12, newValue) } }
    /// SPAN, bit 23 (EL1 layout): 0 = PSTATE.PAN is set on taking an exception to this EL
    /// (FEAT_PAN, pseudocode AArch64.TakeException).
    public var span: Bool { get { bit(rawValue, 23) } set { rawValue = setting(rawValue, 23, newValue) } }
    /// DSSBS, bit 44 (FEAT_SSBS): PSTATE.SSBS on taking an exception to this EL.
    public var dssbs: Bool { get { bit(rawValue, 44) } set { rawValue = setting(rawValue, 44, newValue) } }

    /// The bits RES1 in SCTLR_EL2 with E2H = 0: 4, 5, 11, 16, 18, 22, 23, 28, 29. In SCTLR_EL1's
    /// layout (E2H = 1) the same bits are SA0, CP15BEN, EOS, nTWI, nTWE, EIS, SPAN, nTLSMD and
    /// LSMAOE, whose value 1 keeps the behaviour the RES1 bits give.
    public static let el2RES1 = SCTLR(rawValue: 1 << 4 | 1 << 5 | 1 << 11 | 1 << 16 | 1 << 18
                                        | 1 << 22 | 1 << 23 | 1 << 28 | 1 << 29)

    /// The hypervisor's own: MMU, data and instruction caches and SP alignment checks on,
    /// above `el2RES1`. The same value is right in both layouts.
    public static var el2: SCTLR {
        var s = el2RES1
        s.m = true; s.c = true; s.sa = true; s.i = true
        return s
    }
}
