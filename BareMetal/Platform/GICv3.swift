import _Volatile
import CArch
import SwiftvisorCore

/// The physical GICv3, just enough for the hypervisor's own timer interrupt: distributor with
/// affinity routing, this CPU's redistributor awake, the system-register CPU interface
/// (Arm GIC Architecture Specification IHI0069, chapters 4 and 12). Offsets and fields are the
/// core's (`GICDistributorRegister`, `GICRedistributorRegister`, `GICRegisterFields.swift`).
struct GICv3 {
    typealias D = GICDistributorRegister
    typealias R = GICRedistributorRegister

    let distributor: UInt64
    let redistributor: UInt64   // RD_base of this CPU; SGI_base is 64 KiB above
    /// The core this CPU interface belongs to (SGI target, SPI route).
    let mpidr: UInt64

    init?(platform: HostPlatform, mpidr: UInt64) {
        guard let d = platform.gicDistributor, let r = platform.gicRedistributors else { return nil }
        self.mpidr = mpidr
        distributor = d.base.rawValue
        // Find this CPU's frame: GICR_TYPER.Affinity_Value (bits 63:32) equals MPIDR Aff3-0.
        let affinity = GICRedistributorType.affinityValue(mpidr: mpidr)
        var frame = r.base.rawValue
        var found: UInt64?
        while frame < r.end.rawValue {
            let typer = GICRedistributorType(rawValue: Self.register64(frame + R.typer.rawValue).load())
            if typer.affinityValue == affinity { found = frame; break }
            if typer.last { break }
            frame += R.stride
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
        // GICD_CTLR: ARE_NS and EnableGrp1NS; wait for RWP.
        let ctlr = Self.register32(distributor + D.ctlr.rawValue)
        ctlr.store(GICDistributorControl(rawValue: ctlr.load()).union([.affinityRouting, .enableGroup1]).rawValue)
        while GICDistributorControl(rawValue: ctlr.load()).contains(.registerWritePending) {}
        // GICR_WAKER: clear ProcessorSleep, wait until ChildrenAsleep clears.
        let waker = Self.register32(redistributor + R.waker.rawValue)
        waker.store(GICRedistributorWake(rawValue: waker.load()).subtracting(.processorSleep).rawValue)
        while GICRedistributorWake(rawValue: waker.load()).contains(.childrenAsleep) {}
        // The PPIs: Group 1 (GICR_IGROUPR0), priority 0x80, enabled (GICR_ISENABLER0).
        for intid in intids where intid < 32 {
            let group = Self.register32(redistributor + R.igroupr0.rawValue)
            group.store(group.load() | 1 << intid)
            let priority = VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(redistributor + R.ipriorityr.rawValue + UInt64(intid)))
            priority.store(0x80)
            Self.register32(redistributor + R.isenabler0.rawValue).store(1 << intid)
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

    var frame: GICDistributorFrame { GICDistributorFrame(base: distributor) }

    /// Group 1, priority 0x80, routed to this core, enabled.
    func configureSPI(_ intid: UInt32) {
        let bit: UInt32 = 1 << (intid % 32)
        let group = frame.register32(D.igroupr.offset(of: intid))
        group.store(group.load() | bit)
        frame.setPriority(intid, 0x80)
        // GICD_IROUTER<n>: this core by affinity, IRM = 0.
        Self.register64(distributor + D.irouter.offset(of: intid)).store(GICDistributorRoute(mpidr: mpidr).rawValue)
        unmaskSPI(intid)
    }

    func maskSPI(_ intid: UInt32) { frame.disable(intid) }
    func unmaskSPI(_ intid: UInt32) { frame.enable(intid) }

    /// ICC_IAR1_EL1: the highest-priority pending interrupt, now active.
    func acknowledge() -> AcknowledgedInterrupt {
        let intid = GICv3InterruptAcknowledge(rawValue: read_icc_iar1_el1()).intid
        return AcknowledgedInterrupt(intid: intid, iar: intid)
    }
    func endOfInterrupt(_ a: AcknowledgedInterrupt) { write_icc_eoir1_el1(UInt64(a.iar)) }

    /// Sets or clears the active state of one of this core's PPIs (GICR_ISACTIVER0 /
    /// GICR_ICACTIVER0, IHI0069 12.11): an active interrupt is not signalled again until it
    /// is deactivated, here by the guest through a list register's HW link.
    func setPrivateActive(_ intid: UInt32, _ active: Bool) {
        Self.register32(redistributor + (active ? R.isactiver0 : R.icactiver0).rawValue).store(1 << intid)
    }

    /// ICC_SGI1R_EL1 (IHI0069 12.2.23) from whichever core runs this, to this controller's core:
    /// Aff3.Aff2.Aff1 of the target and its Aff0 as a TargetList bit.
    func sendSGI(_ intid: UInt32) {
        send_physical_sgi(UInt64(intid), mpidr)
    }
}
