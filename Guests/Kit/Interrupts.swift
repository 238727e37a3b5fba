import _Volatile
import CGuest
import SwiftvisorCore

/// A minimal GIC driver for test guests, for the GIC the hypervisor gives them (the host's):
/// a GICv3 (distributor and this vCPU's redistributor through MMIO, the CPU interface through
/// ICC_* system registers, IHI0069 chapter 4) or a GICv2 (distributor with banked registers
/// for INTIDs 0-31, GICD_SGIR, and the memory-mapped CPU interface GICC, IHI0048B chapter 4).
/// The same guest binary runs on both.
public enum Interrupts {
    /// GICD_PIDR2.ArchRev (bits 7:4) at 0xFE8 of a GICv2 distributor reads 2 (a GICv3
    /// distributor has its PIDR2 at 0xFFE8 and nothing at 0xFE8).
    nonisolated(unsafe) public static let isGICv2: Bool =
        register32(GuestMachine.gicDistributor.base.rawValue + 0xFE8).load() >> 4 & 0xF == 2

    static var gicd: UInt64 { GuestMachine.gicDistributor.base.rawValue }
    static var gicc: UInt64 { GuestMachine.gicCPUInterface.base.rawValue }

    /// Called for each acknowledged INTID, with interrupts masked; one slot per vCPU (by Aff0),
    /// allocated once: vCPUs run in parallel, and each writes only its own slot (a shared
    /// Swift array would be copied on write, racing with the other vCPUs).
    nonisolated(unsafe) static let handlers: UnsafeMutablePointer<(UInt32) -> Void> = {
        let p = UnsafeMutablePointer<(UInt32) -> Void>.allocate(capacity: 8)
        p.initialize(repeating: { _ in }, count: 8)
        return p
    }()

    /// The calling vCPU's handler.
    public static var handler: (UInt32) -> Void {
        get { handlers[Int(read_mpidr() & 0x7)] }
        set { handlers[Int(read_mpidr() & 0x7)] = newValue }
    }

    static func register32(_ a: UInt64) -> VolatileMappedRegister<UInt32> {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(a))
    }

    static func redistributor(cpu: Int) -> UInt64 {
        GuestMachine.gicRedistributorBase.rawValue + UInt64(cpu) * VirtualGIC.redistributorStride
    }

    /// Enables the distributor (vCPU 0 only) and this vCPU's interface; IRQs stay masked.
    /// vCPU 0 must call it before starting the others.
    public static func start(cpu: Int) {
        _ = handlers
        if isGICv2 {
            // Interrupts stay in Group 0 (IGROUPR reset value), signalled as IRQs.
            if cpu == 0 { register32(gicd).store(1) }      // GICD_CTLR.EnableGrp0
            register32(gicc + 0x004).store(0xFF)            // GICC_PMR
            register32(gicc).store(1)                       // GICC_CTLR.EnableGrp0
            return
        }
        write_icc_sre_el1(1)                                             // system-register interface
        if cpu == 0 { register32(GuestMachine.gicDistributor.base.rawValue).store(1 << 1) }  // EnableGrp1
        let rd = redistributor(cpu: cpu)
        register32(rd + 0x14).store(0)                                   // GICR_WAKER: awake
        while register32(rd + 0x14).load() & (1 << 2) != 0 {}
        register32(rd + 0x1_0080).store(0xFFFF_FFFF)                     // all private: Group 1
        write_icc_pmr_el1(0xFF)
        write_icc_igrpen1_el1(1)
    }

    /// An SGI or PPI of the calling vCPU (`cpu`): `priority`, enabled.
    public static func enable(_ intid: UInt32, cpu: Int, priority: UInt8 = 0xA0) {
        if isGICv2 {
            // GICD_IPRIORITYR<n> and GICD_ISENABLER0 are banked: the calling vCPU's own.
            let word = gicd + 0x400 + UInt64(intid & ~3), shift = (intid & 3) * 8
            register32(word).store(register32(word).load() & ~(0xFF << shift) | UInt32(priority) << shift)
            register32(gicd + 0x100).store(1 << intid)
            return
        }
        let rd = redistributor(cpu: cpu)
        let word = rd + 0x1_0400 + UInt64(intid & ~3)
        var v = register32(word).load()
        let shift = (intid & 3) * 8
        v = v & ~(0xFF << shift) | UInt32(priority) << shift
        register32(word).store(v)
        register32(rd + 0x1_0100).store(1 << intid)
    }

    /// An SPI through the distributor: Group 1, `priority`, routed to vCPU `cpu`, enabled.
    public static func enableSPI(_ intid: UInt32, cpu: Int, priority: UInt8 = 0xA0) {
        let word = UInt64(intid / 32) * 4, bit: UInt32 = 1 << (intid % 32)
        if isGICv2 {
            let p = gicd + 0x400 + UInt64(intid & ~3), shift = (intid & 3) * 8
            register32(p).store(register32(p).load() & ~(0xFF << shift) | UInt32(priority) << shift)
            // GICD_ITARGETSR<n>: one byte per INTID, a CPU mask.
            VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(gicd + 0x800 + UInt64(intid))).store(1 << UInt8(cpu))
            register32(gicd + 0x100 + word).store(bit)
            return
        }
        register32(gicd + 0x80 + word).store(register32(gicd + 0x80 + word).load() | bit)
        let p = gicd + 0x400 + UInt64(intid & ~3), shift = (intid & 3) * 8
        register32(p).store(register32(p).load() & ~(0xFF << shift) | UInt32(priority) << shift)
        VolatileMappedRegister<UInt64>(unsafeBitPattern: UInt(gicd + 0x6000 + 8 * UInt64(intid))).store(UInt64(cpu))
        register32(gicd + 0x100 + word).store(bit)
    }

    /// ICC_SGI1R_EL1 with a TargetList of vCPUs (Aff0), or GICD_SGIR with a CPUTargetList.
    public static func sendSGI(_ intid: UInt32, toCPUs mask: UInt16) {
        if isGICv2 {
            dsb_ish()
            register32(gicd + 0xF00).store(UInt32(mask & 0xFF) << 16 | intid)
            return
        }
        write_icc_sgi1r_el1(UInt64(intid) << 24 | UInt64(mask))
    }

    /// ICC_IAR1_EL1 or GICC_IAR: the interrupt taken (>= 1020: none). On a GICv2 the value
    /// also names an SGI's sender (bits 12:10); give it back whole to `endOfInterrupt`.
    public static func acknowledge() -> UInt32 {
        if isGICv2 { return register32(gicc + 0x00C).load() }
        return UInt32(truncatingIfNeeded: read_icc_iar1_el1() & 0xFF_FFFF)
    }

    /// ICC_EOIR1_EL1 or GICC_EOIR: priority drop and deactivation (EOImode 0).
    public static func endOfInterrupt(_ iar: UInt32) {
        if isGICv2 { register32(gicc + 0x010).store(iar); return }
        write_icc_eoir1_el1(UInt64(iar))
    }
}

@_cdecl("guest_irq")
func guestIRQ() {
    while true {
        let iar = Interrupts.acknowledge()
        let intid = iar & 0x3FF
        if intid >= 1020 { break }
        Interrupts.handler(intid)
        Interrupts.endOfInterrupt(iar)
    }
}

/// Weak default for guests with one vCPU.
@_cdecl("guest_secondary_main")
public func guestSecondaryMainDefault(_ mpidr: UInt64) {
    if let secondary = Guest.secondaryMain { secondary(Int(mpidr & 0xFF)) }
    spin_forever_masked()
}

extension Guest {
    /// Sleeps in WFI until `condition` holds, without the lost-wakeup race: the condition is
    /// checked with IRQs masked, WFI still wakes on a pending interrupt (Arm ARM D1.6.2), and
    /// IRQs are unmasked only briefly to take it. (Checking with IRQs unmasked can take the
    /// interrupt just before the WFI, which then sleeps with nothing pending.)
    public static func waitUntil(_ condition: () -> Bool) {
        irq_disable()
        while !condition() {
            guest_wfi()
            irq_enable()
            irq_disable()
        }
        irq_enable()
    }

    nonisolated(unsafe) public static var secondaryMain: ((Int) -> Void)?

    /// Starts vCPU `cpu` with PSCI CPU_ON on a stack of its own; returns the PSCI status.
    public static func startCPU(_ cpu: Int, stackTop: UInt64) -> Int64 {
        let entry = UInt64(UInt(bitPattern: unsafeBitCast(secondary_entry as @convention(c) () -> Void, to: UnsafeRawPointer.self)))
        return smccc_hvc(0xC400_0003, UInt64(cpu), entry, stackTop)
    }
}
