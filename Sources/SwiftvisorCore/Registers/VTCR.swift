/// VTCR_EL2, Virtualization Translation Control Register: how stage-2 tables are walked
/// (Arm ARM D19.2.174).
public struct VTCR: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    /// T0SZ, bits 5:0: the IPA space is 2^(64 - T0SZ) bytes.
    public var t0sz: UInt64 { get { bits(rawValue, 5, 0) } set { rawValue = setting(rawValue, 5, 0, to: newValue) } }
    /// SL0, bits 7:6: the level the walk starts at (with a 4 KiB granule, 0b00 = level 2,
    /// 0b01 = level 1, 0b10 = level 0).
    public var sl0: UInt64 { get { bits(rawValue, 7, 6) } set { rawValue = setting(rawValue, 7, 6, to: newValue) } }
    /// IRGN0, bits 9:8: inner cacheability of table walks (0b01 Write-Back, Write-Allocate).
    public var irgn0: UInt64 { get { bits(rawValue, 9, 8) } set { rawValue = setting(rawValue, 9, 8, to: newValue) } }
    /// ORGN0, bits 11:10: outer cacheability of table walks (0b01 Write-Back, Write-Allocate).
    public var orgn0: UInt64 { get { bits(rawValue, 11, 10) } set { rawValue = setting(rawValue, 11, 10, to: newValue) } }
    /// SH0, bits 13:12: shareability of table walks (0b11 Inner Shareable).
    public var sh0: UInt64 { get { bits(rawValue, 13, 12) } set { rawValue = setting(rawValue, 13, 12, to: newValue) } }
    /// TG0, bits 15:14: granule (0b00 4 KiB).
    public var tg0: UInt64 { get { bits(rawValue, 15, 14) } set { rawValue = setting(rawValue, 15, 14, to: newValue) } }
    /// PS, bits 18:16: physical address size of the output (ID_AA64MMFR0_EL1.PARange's encoding).
    public var ps: UInt64 { get { bits(rawValue, 18, 16) } set { rawValue = setting(rawValue, 18, 16, to: newValue) } }
    /// VS, bit 19: 16-bit VMIDs (0: 8 bits).
    public var vs: Bool { get { bit(rawValue, 19) } set { rawValue = setting(rawValue, 19, newValue) } }
    /// Bit 31 is RES1.
    static let res1: UInt64 = 1 << 31

    /// Every guest's stage 2: a 39-bit IPA space (T0SZ = 25) walked from level 1 (SL0 = 0b01),
    /// as `TranslationTable(startLevel: 1)` builds it; Write-Back Inner Shareable walks; 4 KiB
    /// granule; 8-bit VMIDs; output size `ps`.
    public static func guest(outputSize ps: UInt64) -> VTCR {
        var v = VTCR(rawValue: res1)
        v.t0sz = 25; v.sl0 = 0b01
        v.irgn0 = 0b01; v.orgn0 = 0b01; v.sh0 = 0b11; v.tg0 = 0b00
        v.ps = ps
        return v
    }
}
