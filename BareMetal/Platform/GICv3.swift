import _Volatile
import CArch
import SwiftvisorCore

/// The physical GICv3, just enough for the hypervisor's own timer interrupt: distributor with
/// affinity routing, this CPU's redistributor awake, the system-register CPU interface
/// (Arm GIC Architecture Specification IHI0069, chapters 4 and 12).
struct GICv3 {
    let distributor: UInt64
    let redistributor: UInt64   // RD_base of this CPU; SGI_base is 64 KiB above
    /// The core this CPU interface belongs to (SGI target, SPI route).
    let mpidr: UInt64

    init?(platform: HostPlatform, mpidr: UInt64) {
        guard let d = platform.gicDistributor, let r = platform.gicRedistributors else { return nil }
        self.mpidr = mpidr
        distributor = d.base.rawValue
        // Find this CPU's frame: GICR_TYPER.Affinity_Value (bits 63:32) equals MPIDR Aff3-0.
        let affinity = (mpidr & 0xFF_FFFF) | ((mpidr >> 32 & 0xFF) << 24)
        var frame = r.base.rawValue
        var found: UInt64?
        while frame < r.end.rawValue {
            let typer = Self.register64(frame + 0x8).load()
            if typer >> 32 == affinity { found = frame; break }
            if typer & (1 << 4) != 0 { break }   // Last
            frame += 0x2_0000
        }
        guard let found else { return nil }
        redistributor = found
    }

    static func register32(_ a: UInt64) -> VolatileMappedRegister<UInt32> {
        // SAFETY: GIC frames from the DTB, mapped Device-nGnRE by EL2MMU.
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(a))
    }
    static func register64(_ a: UInt64) -> VolatileMappedRegister<UInt64> {
        VolatileMappedRegister<UInt64>(unsafeBitPattern: UInt(a))
    }

    func initialize(enabling intids: [UInt32]) {
        // GICD_CTLR: ARE_NS (bit 4) and EnableGrp1NS (bit 1); wait for RWP (bit 31).
        let ctlr = Self.register32(distributor)
        ctlr.store(ctlr.load() | 1 << 4 | 1 << 1)
        while ctlr.load() & (1 << 31) != 0 {}
        // GICR_WAKER: clear ProcessorSleep, wait until ChildrenAsleep clears.
        let waker = Self.register32(redistributor + 0x14)
        waker.store(waker.load() & ~(1 << 1))
        while waker.load() & (1 << 2) != 0 {}
        let sgiBase = redistributor + 0x1_0000
        // The PPIs: Group 1 (GICR_IGROUPR0), priority 0x80, enabled (GICR_ISENABLER0).
        for intid in intids where intid < 32 {
            let group = Self.register32(sgiBase + 0x80)
            group.store(group.load() | 1 << intid)
            let priority = VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(sgiBase + 0x400 + UInt64(intid)))
            priority.store(0x80)
            Self.register32(sgiBase + 0x100).store(1 << intid)
        }
        // CPU interface: system registers on (ICC_SRE_EL2.SRE|DFB|DIB|Enable, so EL1 may use
        // ICC_SRE_EL1 too), every priority unmasked, EOI both drops priority and deactivates.
        write_icc_sre_el2(0xF)
        write_icc_pmr_el1(0xFF)
        write_icc_ctlr_el1(0)
        write_icc_igrpen1_el1(1)
        // The virtual CPU interface is enabled per vCPU when it is loaded.
        write_ich_hcr_el2(0)
    }

    // Physical SPIs passed through to guests (distributor registers are shared by all cores).

    /// Group 1, priority 0x80, routed to this core, enabled.
    func configureSPI(_ intid: UInt32) {
        let word = UInt64(intid / 32) * 4, bit: UInt32 = 1 << (intid % 32)
        let group = Self.register32(distributor + 0x80 + word)
        group.store(group.load() | bit)
        VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(distributor + 0x400 + UInt64(intid))).store(0x80)
        // GICD_IROUTER<n>: Aff3 in bits 39:32, Aff2-Aff0 in bits 23:0, IRM = 0.
        Self.register64(distributor + 0x6000 + 8 * UInt64(intid)).store((mpidr & 0xFF_FFFF) | (mpidr >> 32 & 0xFF) << 32)
        unmaskSPI(intid)
    }

    /// GICD_ICENABLER: the guest is handling it; a level that stays high must not re-fire.
    func maskSPI(_ intid: UInt32) {
        Self.register32(distributor + 0x180 + UInt64(intid / 32) * 4).store(1 << (intid % 32))
    }

    func unmaskSPI(_ intid: UInt32) {
        Self.register32(distributor + 0x100 + UInt64(intid / 32) * 4).store(1 << (intid % 32))
    }

    /// ICC_IAR1_EL1: the highest-priority pending interrupt, now active.
    func acknowledge() -> AcknowledgedInterrupt {
        let intid = UInt32(truncatingIfNeeded: read_icc_iar1_el1() & 0xFF_FFFF)
        return AcknowledgedInterrupt(intid: intid, iar: intid)
    }
    func endOfInterrupt(_ a: AcknowledgedInterrupt) { write_icc_eoir1_el1(UInt64(a.iar)) }

    /// ICC_SGI1R_EL1 (IHI0069 12.2.23) from whichever core runs this, to this controller's core:
    /// Aff3.Aff2.Aff1 of the target and its Aff0 as a TargetList bit.
    func sendSGI(_ intid: UInt32) {
        send_physical_sgi(UInt64(intid), mpidr)
    }
}
