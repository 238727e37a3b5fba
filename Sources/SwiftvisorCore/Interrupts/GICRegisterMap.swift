/// The GIC's memory-mapped registers by their names in the GIC architecture specifications:
/// offsets into each frame, one definition for the physical drivers (`BareMetal/Platform`) and
/// the emulated distributors (`VirtualGIC`). GICv2: IHI0048B 4.1.2 (GICD), 4.1.3 (GICC), 5.3
/// (GICH); GICv3: IHI0069 12.9 (GICD) and 12.10 (GICR). Their bit fields are in
/// `GICRegisterFields.swift`.

/// GICD_*, the distributor (IHI0048B 4.1.2, IHI0069 12.9): offset of the first
/// register of each bank; a GICv2 and a GICv3 place the ones they share at the same offsets.
public enum GICDistributorRegister: UInt64 {
    /// GICD_CTLR (`GICDistributorControl`), GICD_TYPER (`GICDistributorType`), GICD_IIDR.
    case ctlr = 0x0000, typer = 0x0004, iidr = 0x0008
    /// GICD_IGROUPR<n>, one bit per INTID: Group 1.
    case igroupr = 0x0080
    /// GICD_ISENABLER<n>/ICENABLER<n>, one bit per INTID: set/clear-enable.
    case isenabler = 0x0100, icenabler = 0x0180
    /// GICD_ISPENDR<n>/ICPENDR<n>, one bit per INTID: set/clear-pending.
    case ispendr = 0x0200, icpendr = 0x0280
    /// GICD_ISACTIVER<n>/ICACTIVER<n>, one bit per INTID: set/clear-active.
    case isactiver = 0x0300, icactiver = 0x0380
    /// GICD_IPRIORITYR<n>, one byte per INTID.
    case ipriorityr = 0x0400
    /// GICD_ITARGETSR<n> (GICv2), one byte per INTID: CPU target mask.
    case itargetsr = 0x0800
    /// GICD_ICFGR<n>, two bits per INTID (bit 1 of each: edge-triggered).
    case icfgr = 0x0C00
    /// GICD_SGIR (GICv2, write-only; `GICv2SGIRequest`).
    case sgir = 0x0F00
    /// GICD_IROUTER<n> (GICv3), 64 bits per INTID from INTID 0 (the first SPI's at 0x6100;
    /// `GICDistributorRoute`).
    case irouter = 0x6000
    /// GICD_PIDR2 of a GICv2 (where the GIC-400 puts it: IHI0048B leaves the identification
    /// registers' layout to the implementation) and of a GICv3 (ArchRev, bits 7:4).
    case pidr2GICv2 = 0x0FE8, pidr2 = 0xFFE8

    /// Bytes of one register of the bank.
    @inlinable @inline(__always) public var registerSize: UInt64 { self == .irouter ? 8 : 4 }

    /// Bytes the bank spans for INTIDs 0-1019 (1-bit banks 0x80, byte banks 0x400, ICFGR
    /// 0x100, IROUTER 0x2000); a single register for the rest.
    @inlinable @inline(__always) public var bankSize: UInt64 {
        switch self {
        case .igroupr, .isenabler, .icenabler, .ispendr, .icpendr, .isactiver, .icactiver: return 0x80
        case .ipriorityr, .itargetsr: return 0x400
        case .icfgr: return 0x100
        case .irouter: return 0x2000
        default: return registerSize
        }
    }

    /// The offsets the whole bank covers.
    @inlinable @inline(__always) public var bank: Range<UInt64> { rawValue..<rawValue + bankSize }

    /// Offset of the register holding INTID `intid`'s field (the 32-bit word for 1- and 8-bit
    /// banks is its `& ~3`; for byte banks this is the byte itself).
    @inlinable @inline(__always) public func offset(of intid: UInt32) -> UInt64 {
        switch self {
        case .ipriorityr, .itargetsr: return rawValue + UInt64(intid)
        case .icfgr: return rawValue + UInt64(intid / 16) * 4
        case .irouter: return rawValue + UInt64(intid) * 8
        default: return rawValue + UInt64(intid / 32) * 4
        }
    }
}

/// GICR_*, a GICv3 redistributor (IHI0069 12.10): offsets from its RD_base; the SGI_base
/// frame's registers (bank 0 of the distributor's, for SGIs and PPIs) 64 KiB above it.
public enum GICRedistributorRegister: UInt64 {
    /// GICR_CTLR, GICR_IIDR, GICR_TYPER (64-bit, `GICRedistributorType`), GICR_WAKER
    /// (`GICRedistributorWake`), GICR_PIDR2.
    case ctlr = 0x0000, iidr = 0x0004, typer = 0x0008, waker = 0x0014, pidr2 = 0xFFE8
    /// SGI_base + GICR_IGROUPR0, ISENABLER0, ICENABLER0, ISPENDR0, ICPENDR0, ISACTIVER0,
    /// ICACTIVER0 (one bit per INTID 0-31).
    case igroupr0 = 0x1_0080, isenabler0 = 0x1_0100, icenabler0 = 0x1_0180, ispendr0 = 0x1_0200
    case icpendr0 = 0x1_0280, isactiver0 = 0x1_0300, icactiver0 = 0x1_0380
    /// SGI_base + GICR_IPRIORITYR<n>: a byte per INTID 0-31 (0x400-0x41F).
    case ipriorityr = 0x1_0400
    /// SGI_base + GICR_ICFGR0 (SGIs, read-only) and GICR_ICFGR1 (PPIs).
    case icfgr0 = 0x1_0C00, icfgr1 = 0x1_0C04

    /// SGI_base - RD_base: the second 64 KiB frame.
    @inlinable @inline(__always) public static var sgiFrame: UInt64 { 0x1_0000 }
    /// One redistributor's two frames, RD_base then SGI_base (no VLPI frames).
    @inlinable @inline(__always) public static var stride: UInt64 { 0x2_0000 }

    /// The offsets GICR_IPRIORITYR0-7 cover.
    @inlinable @inline(__always) public static var priorities: Range<UInt64> {
        ipriorityr.rawValue..<ipriorityr.rawValue + 32
    }
}

/// GICC_*, a GICv2's memory-mapped CPU interface (IHI0048B 4.1.3).
public enum GICCPUInterfaceRegister: UInt64 {
    /// GICC_CTLR (`GICCPUInterfaceControl`), GICC_PMR, GICC_BPR.
    case ctlr = 0x0000, pmr = 0x0004, bpr = 0x0008
    /// GICC_IAR (`GICv2InterruptAcknowledge`), GICC_EOIR (takes the IAR value back).
    case iar = 0x000C, eoir = 0x0010
    /// GICC_DIR: deactivation when GICC_CTLR.EOImode is 1.
    case dir = 0x1000
}

/// GICH_*, a GICv2's virtual interface control frame (IHI0048B 5.3).
public enum GICHypervisorRegister: UInt64 {
    /// GICH_HCR (`GICHypervisorControl`), GICH_VTR (`GICHypervisorType`), GICH_VMCR.
    case hcr = 0x000, vtr = 0x004, vmcr = 0x008
    /// GICH_MISR: why the maintenance interrupt is asserted.
    case misr = 0x010
    /// GICH_EISR0/1: list registers with an EOI maintenance request done.
    case eisr0 = 0x020, eisr1 = 0x024
    /// GICH_ELRSR0/1: empty list registers.
    case elrsr0 = 0x030, elrsr1 = 0x034
    /// GICH_APR: active priorities.
    case apr = 0x0F0
    /// GICH_LR0; GICH_LR<n> at 0x100 + 4n (`listRegister(_:)`).
    case lr0 = 0x100

    /// Offset of GICH_LR<n>.
    @inlinable @inline(__always) public static func listRegister(_ n: Int) -> UInt64 { lr0.rawValue + 4 * UInt64(n) }
}
