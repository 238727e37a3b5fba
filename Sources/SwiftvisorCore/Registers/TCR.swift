/// TCR_EL2, Translation Control Register for the hypervisor's own stage 1 (Arm ARM D19.2.137).
/// With HCR_EL2.E2H = 0 it has one translation range (TTBR0_EL2) and PS at 18:16; with E2H = 1
/// it takes TCR_EL1's layout: two ranges, and IPS at 34:32 for the output size.
public struct TCR: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    // Both layouts: the TTBR0 walk.
    /// T0SZ, bits 5:0: the TTBR0 range is 2^(64 - T0SZ) bytes.
    public var t0sz: UInt64 { get { bits(rawValue, 5, 0) } set { rawValue = setting(rawValue, 5, 0, to: newValue) } }
    /// IRGN0, bits 9:8: inner cacheability of walks (0b01 Write-Back, Write-Allocate).
    public var irgn0: UInt64 { get { bits(rawValue, 9, 8) } set { rawValue = setting(rawValue, 9, 8, to: newValue) } }
    /// ORGN0, bits 11:10: outer cacheability of walks (0b01 Write-Back, Write-Allocate).
    public var orgn0: UInt64 { get { bits(rawValue, 11, 10) } set { rawValue = setting(rawValue, 11, 10, to: newValue) } }
    /// SH0, bits 13:12: shareability of walks (0b11 Inner Shareable).
    public var sh0: UInt64 { get { bits(rawValue, 13, 12) } set { rawValue = setting(rawValue, 13, 12, to: newValue) } }
    /// TG0, bits 15:14: granule (0b00 4 KiB).
    public var tg0: UInt64 { get { bits(rawValue, 15, 14) } set { rawValue = setting(rawValue, 15, 14, to: newValue) } }

    // E2H = 0.
    /// PS, bits 18:16 (E2H = 0): output address size, in ID_AA64MMFR0_EL1.PARange's encoding.
    public var ps: UInt64 { get { bits(rawValue, 18, 16) } set { rawValue = setting(rawValue, 18, 16, to: newValue) } }
    /// Bits 23 and 31 are RES1 with E2H = 0.
    public static let res1E2H0: UInt64 = 1 << 23 | 1 << 31

    // E2H = 1.
    /// T1SZ, bits 21:16 (E2H = 1): size of the TTBR1 range.
    public var t1sz: UInt64 { get { bits(rawValue, 21, 16) } set { rawValue = setting(rawValue, 21, 16, to: newValue) } }
    /// EPD1, bit 23 (E2H = 1): no walks from TTBR1 (its range faults).
    public var epd1: Bool { get { bit(rawValue, 23) } set { rawValue = setting(rawValue, 23, newValue) } }
    /// TG1, bits 31:30 (E2H = 1): TTBR1 granule (0b10 4 KiB; note: not TG0's encoding).
    public var tg1: UInt64 { get { bits(rawValue, 31, 30) } set { rawValue = setting(rawValue, 31, 30, to: newValue) } }
    /// IPS, bits 34:32 (E2H = 1): output address size.
    public var ips: UInt64 { get { bits(rawValue, 34, 32) } set { rawValue = setting(rawValue, 34, 32, to: newValue) } }

    /// The hypervisor's identity map: 48-bit VA from TTBR0 (T0SZ = 16), Write-Back Inner
    /// Shareable walks, 4 KiB granule, output size `ps`, in `regime`'s layout. With E2H = 1 the
    /// TTBR1 range is unused (EPD1) but kept well formed (T1SZ = 16, TG1 = 4 KiB).
    public static func hypervisor(_ regime: EL2Regime, outputSize ps: UInt64) -> TCR {
        var t = TCR()
        t.t0sz = 16
        t.irgn0 = 0b01; t.orgn0 = 0b01; t.sh0 = 0b11; t.tg0 = 0b00
        switch regime {
        case .el2:
            t.rawValue |= res1E2H0
            t.ps = ps
        case .el2And0:
            t.t1sz = 16; t.epd1 = true; t.tg1 = 0b10
            t.ips = ps
        }
        return t
    }
}
