/// Stage-2 block/page attributes (Arm ARM D8.5.5, "Stage 2 memory region attributes").
public struct Stage2Attributes: LeafAttributes, Equatable {
    public enum Memory: Equatable { case normal, device }
    public enum Access: Equatable { case readOnly, readWrite }
    public var memory: Memory
    public var access: Access
    public var executable: Bool

    public init(memory: Memory, access: Access, executable: Bool) {
        self.memory = memory; self.access = access; self.executable = executable
    }

    public static let guestRAM = Stage2Attributes(memory: .normal, access: .readWrite, executable: true)

    public var descriptorBits: UInt64 {
        // MemAttr[5:2]: 0b1111 Normal Write-Back; 0b0001 Device-nGnRE.
        var d: UInt64 = memory == .normal ? 0b1111 << 2 : 0b0001 << 2
        // S2AP[7:6]: 0b01 read-only, 0b11 read/write.
        d |= (access == .readWrite ? 0b11 : 0b01) << 6
        // SH[9:8]: Inner Shareable for Normal memory.
        if memory == .normal { d |= 0b11 << 8 }
        d |= 1 << 10                      // AF: no access-flag faults.
        if !executable { d |= 1 << 54 }   // XN
        return d
    }

    public init?(descriptor d: UInt64) {
        memory = bits(d, 5, 2) == 0b1111 ? .normal : .device
        switch bits(d, 7, 6) { case 0b11: access = .readWrite; case 0b01: access = .readOnly; default: return nil }
        executable = !bit(d, 54)
    }
}

/// EL2 stage-1 attributes for the hypervisor's own identity map (Arm ARM D8.5.3), indexing
/// MAIR_EL2 as `MAIR.el2` lays it out.
public struct EL2Stage1Attributes: LeafAttributes, Equatable {
    public enum Memory: UInt64 { case normal = 0, device = 1 }
    public var memory: Memory
    public var executable: Bool
    public var regime: EL2Regime

    public init(memory: Memory, executable: Bool, regime: EL2Regime = .el2) {
        self.memory = memory; self.executable = executable; self.regime = regime
    }

    public var descriptorBits: UInt64 {
        var d = memory.rawValue << 2           // AttrIndx[4:2]
        if memory == .normal { d |= 0b11 << 8 }  // SH: Inner Shareable
        d |= 1 << 10                           // AF
        // XN, bit 54, in the EL2 regime; in EL2&0 bit 54 is UXN and EL2 obeys PXN, bit 53
        // (RES0 in the EL2 regime).
        if !executable { d |= 1 << 54 | (regime == .el2And0 ? 1 << 53 : 0) }
        return d                               // AP[7:6] = 0b00: read/write at EL2 only, nG = 0
    }
}

/// MAIR_EL2 contents matching `EL2Stage1Attributes.Memory` (Arm ARM D19.2.91).
public enum MAIR {
    /// Attr0 = 0xFF Normal Inner/Outer Write-Back RW-allocate; Attr1 = 0x04 Device-nGnRE.
    public static let el2: UInt64 = 0xFF | 0x04 << 8
}
