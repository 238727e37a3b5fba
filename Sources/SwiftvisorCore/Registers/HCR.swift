/// HCR_EL2, Hypervisor Configuration Register (Arm ARM D19.2.49).
public struct HCR: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    /// VM, bit 0: enable stage-2 translation for EL1&0.
    public var vm: Bool { get { bit(rawValue, 0) } set { rawValue = setting(rawValue, 0, newValue) } }
    /// SWIO, bit 1: set/way invalidate becomes clean+invalidate (safe for guests).
    public var swio: Bool { get { bit(rawValue, 1) } set { rawValue = setting(rawValue, 1, newValue) } }
    /// FMO, bit 3: physical FIQs go to EL2; virtual FIQs enabled.
    public var fmo: Bool { get { bit(rawValue, 3) } set { rawValue = setting(rawValue, 3, newValue) } }
    /// IMO, bit 4: physical IRQs go to EL2; virtual IRQs enabled.
    public var imo: Bool { get { bit(rawValue, 4) } set { rawValue = setting(rawValue, 4, newValue) } }
    /// AMO, bit 5: SErrors go to EL2.
    public var amo: Bool { get { bit(rawValue, 5) } set { rawValue = setting(rawValue, 5, newValue) } }
    /// VSE, bit 8: a virtual SError is pending.
    public var vse: Bool { get { bit(rawValue, 8) } set { rawValue = setting(rawValue, 8, newValue) } }
    /// FB, bit 9: force broadcast of TLB and cache maintenance within the Inner Shareable domain.
    public var fb: Bool { get { bit(rawValue, 9) } set { rawValue = setting(rawValue, 9, newValue) } }
    /// BSU, bits 11:10: barrier shareability upgrade (0b01 Inner Shareable).
    public var bsu: UInt64 { get { bits(rawValue, 11, 10) } set { rawValue = setting(rawValue, 11, 10, to: newValue) } }
    /// TWI, bit 13: trap guest WFI to EL2.
    public var twi: Bool { get { bit(rawValue, 13) } set { rawValue = setting(rawValue, 13, newValue) } }
    /// TWE, bit 14: trap guest WFE to EL2.
    public var twe: Bool { get { bit(rawValue, 14) } set { rawValue = setting(rawValue, 14, newValue) } }
    /// TID3, bit 18: trap reads of the ID registers (ID_AA64*), so unvirtualised features can be hidden.
    public var tid3: Bool { get { bit(rawValue, 18) } set { rawValue = setting(rawValue, 18, newValue) } }
    /// TSC, bit 19: trap guest SMC to EL2.
    public var tsc: Bool { get { bit(rawValue, 19) } set { rawValue = setting(rawValue, 19, newValue) } }
    /// TIDCP, bit 20: trap EL1 accesses to the IMPLEMENTATION DEFINED system register space
    /// (op0 = 3, CRn = 11 or 15: L2CTLR_EL1, CPUACTLR_EL1, CBAR_EL1...), which leak physical
    /// facts (core count, GIC base) (Arm ARM D19.2.49; D18.3.2 for the reserved space).
    public var tidcp: Bool { get { bit(rawValue, 20) } set { rawValue = setting(rawValue, 20, newValue) } }
    /// TACR, bit 21: trap ACTLR_EL1 accesses (implementation defined register).
    public var tacr: Bool { get { bit(rawValue, 21) } set { rawValue = setting(rawValue, 21, newValue) } }
    /// TSW, bit 22: trap data cache maintenance by set/way, which cannot be virtualised as is.
    public var tsw: Bool { get { bit(rawValue, 22) } set { rawValue = setting(rawValue, 22, newValue) } }
    /// TVM, bit 26: trap writes to the EL1 virtual memory control registers (SCTLR_EL1, TTBRn_EL1,
    /// TCR_EL1, ...). Set per vCPU while its set/way maintenance is emulated (SetWayEmulation).
    public var tvm: Bool { get { bit(rawValue, 26) } set { rawValue = setting(rawValue, 26, newValue) } }
    /// RW, bit 31: EL1 is AArch64.
    public var rw: Bool { get { bit(rawValue, 31) } set { rawValue = setting(rawValue, 31, newValue) } }
    /// TLOR, bit 35 (FEAT_LOR, RES0 without it): trap the LORegion registers.
    public var tlor: Bool { get { bit(rawValue, 35) } set { rawValue = setting(rawValue, 35, newValue) } }
    /// TERR, bit 36 (FEAT_RAS, RES0 without it): trap the error record registers (ERR*, ERX*).
    public var terr: Bool { get { bit(rawValue, 36) } set { rawValue = setting(rawValue, 36, newValue) } }
    /// E2H, bit 34: EL2 runs in the EL2&0 regime (VHE). Set only in `EL2Regime.el2And0`.
    public var e2h: Bool { get { bit(rawValue, 34) } set { rawValue = setting(rawValue, 34, newValue) } }

    /// The configuration every guest runs with.
    public static var guest: HCR {
        var h = HCR()
        h.vm = true; h.swio = true
        h.fmo = true; h.imo = true; h.amo = true
        h.fb = true; h.bsu = 0b01
        h.twi = true; h.twe = true
        h.tsc = true; h.tacr = true
        h.tid3 = true; h.tsw = true
        h.tidcp = true
        h.rw = true
        return h
    }
}
