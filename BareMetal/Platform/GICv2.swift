import _Volatile
import CArch
import SwiftvisorCore

/// The physical GICv2 (GIC-400), just enough for the hypervisor's interrupts: the distributor
/// (GICD) and this core's memory-mapped CPU interface (GICC), EOImode 0 (IHI0048B chapters 4
/// and 5). Interrupts are left in the group the firmware gave them (Group 0 without Security
/// Extensions, as on QEMU; Group 1 in the Non-secure view of a real GIC-400): GICD_CTLR and
/// GICC_CTLR bit 0 enables that group in either case, as Linux does. Offsets and fields are
/// the core's (`GICDistributorRegister`, `GICCPUInterfaceRegister`, `GICRegisterFields.swift`).
struct GICv2 {
    typealias D = GICDistributorRegister
    typealias C = GICCPUInterfaceRegister

    let distributor: UInt64
    let cpuInterface: UInt64
    /// This core's CPU interface as a CPU-target mask (GICD_ITARGETSR, GICD_SGIR); read back
    /// from GICD_ITARGETSR0 by the core itself in `initialize`.
    private(set) var cpuMask: UInt8

    init?(platform: HostPlatform, mpidr: UInt64) {
        guard let d = platform.gicDistributor, let c = platform.gicCPUInterface else { return nil }
        distributor = d.base.rawValue
        cpuInterface = c.base.rawValue
        // Until the core reads its own: CPU interface n is commonly core Aff0 = n.
        cpuMask = 1 << UInt8(mpidr & 7)
    }

    static func register32(_ a: UInt64) -> VolatileMappedRegister<UInt32> {
        // SAFETY: GIC frames from the DTB, mapped Device-nGnRE by EL2MMU.
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(a))
    }
    static func register8(_ a: UInt64) -> VolatileMappedRegister<UInt8> {
        VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(a))
    }

    /// Run on the core itself: learns its CPU interface number, enables the distributor, the
    /// given SGIs/PPIs (priority 0x80) and the CPU interface with every priority unmasked.
    mutating func initialize(enabling intids: [UInt32]) {
        // GICD_ITARGETSR0-7 read as the reading CPU's own mask (IHI0048B 4.3.12).
        let own = Self.register8(distributor + D.itargetsr.rawValue).load()
        if own != 0 { cpuMask = own }
        let ctlr = Self.register32(distributor + D.ctlr.rawValue)
        ctlr.store(GICDistributorControl(rawValue: ctlr.load()).union(.enableGroup0).rawValue)
        for intid in intids where intid < 32 {
            Self.register8(distributor + D.ipriorityr.offset(of: intid)).store(0x80)
            Self.register32(distributor + D.isenabler.rawValue).store(1 << intid)   // banked per CPU
        }
        Self.register32(cpuInterface + C.pmr.rawValue).store(0xFF)
        Self.register32(cpuInterface + C.bpr.rawValue).store(0)
        Self.register32(cpuInterface + C.ctlr.rawValue).store(GICCPUInterfaceControl.enable.rawValue)   // EOImode 0
        // The virtual CPU interface is enabled per vCPU when it is loaded.
        GICv2VirtualInterface.writeHCR(0)
    }

    var frame: GICDistributorFrame { GICDistributorFrame(base: distributor) }

    /// Priority 0x80, targeted at this core, enabled.
    func configureSPI(_ intid: UInt32) {
        frame.setPriority(intid, 0x80)
        frame.register8(D.itargetsr.offset(of: intid)).store(cpuMask)
        unmaskSPI(intid)
    }

    func maskSPI(_ intid: UInt32) { frame.disable(intid) }
    func unmaskSPI(_ intid: UInt32) { frame.enable(intid) }

    /// GICC_IAR: INTID in bits 9:0, the sending CPU of an SGI in 12:10; GICC_EOIR takes it back whole.
    func acknowledge() -> AcknowledgedInterrupt {
        let iar = GICv2InterruptAcknowledge(rawValue: Self.register32(cpuInterface + C.iar.rawValue).load())
        return AcknowledgedInterrupt(intid: iar.intid, iar: iar.rawValue)
    }
    func endOfInterrupt(_ a: AcknowledgedInterrupt) { Self.register32(cpuInterface + C.eoir.rawValue).store(a.iar) }

    /// Sets or clears the active state of one of this core's PPIs (GICD_ISACTIVER0 /
    /// GICD_ICACTIVER0, banked per CPU, IHI0048B 4.3.8): see `GICv3.setPrivateActive`.
    func setPrivateActive(_ intid: UInt32, _ active: Bool) {
        Self.register32(distributor + (active ? D.isactiver : D.icactiver).rawValue).store(1 << intid)
    }

    /// GICD_SGIR from whichever core runs this, to this controller's core: TargetListFilter 0,
    /// CPUTargetList = its mask (IHI0048B 4.3.15).
    func sendSGI(_ intid: UInt32) {
        dsb_ish()   // what the target reads after the SGI is visible first
        Self.register32(distributor + D.sgir.rawValue).store(GICv2SGIRequest(intid: intid, filter: .targetList, targetList: cpuMask).rawValue)
    }
}
