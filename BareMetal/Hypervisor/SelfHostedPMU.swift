import CArch
import SwiftvisorCore

/// The PMU per vCPU (PMUv3, Arm ARM D11): a guest that touches a Performance Monitors register
/// gets the hardware PMU while it runs, loaded with its own state, and saved and stopped when
/// another vCPU takes the core, so its counters count only its own execution. Accesses trap
/// (MDCR_EL2.TPM, TPMCR; HPMN = all counters) so that filters can never count EL2 (NSH clear,
/// `PMURegister.sanitizeFilter`). An overflow interrupt (the PMU PPI, INTID 23 on the host and
/// in the guest) is delivered as the guest's virtual INTID 23; the hardware's enable for the
/// overflowed counters is held off (the guest still reads its PMINTENSET) until the guest
/// clears the overflow, which drops the level as on hardware.
enum SelfHostedPMU {
    /// PMCR_EL0.N: event counters, all the guest's.
    nonisolated(unsafe) static var counters = 0
    static var counterMask: UInt64 { PMURegister.counterMask(eventCounters: counters) }
    /// The physical PMU interrupt, when the host DT's `arm,armv8-pmuv3` has it on a PPI (QEMU
    /// virt: PPI 7, INTID 23), set at boot; guests always get theirs as INTID 23 (their DT).
    nonisolated(unsafe) static var physicalINTID: UInt32?
    static let intid: UInt32 = 23

    /// Every core at boot: the PMU stopped.
    static func configureCore() {
        counters = PMURegister.eventCounters(pmcr: read_pmcr_el0())
        pmu_stop()
    }

    @inline(__always)
    static func switchedOut(_ previous: VirtualCPU, _ core: PhysicalCPU) {
        if core.pmuLive { save(previous, core) }
    }

    @inline(__always)
    static func switchedIn(_ next: VirtualCPU, _ core: PhysicalCPU) {
        if next.pmuInUse { load(next, core) }
    }

    // SAFETY (save, load): `vcpu.pmu` is the vCPU's own `struct pmu_state`, allocated for its
    // lifetime; pmu.c touches its first `counters` (< 31) event counters only.
    @inline(never)
    static func save(_ vcpu: VirtualCPU, _ core: PhysicalCPU) {
        pmu_save(vcpu.pmu, UInt32(counters))
        core.pmuLive = false
    }

    @inline(never)
    static func load(_ vcpu: VirtualCPU, _ core: PhysicalCPU) {
        vcpu.pmu.pointee.intenset = vcpu.pmuInterruptEnables & ~vcpu.pmuInterruptsHeld
        pmu_load(vcpu.pmu, UInt32(counters))
        core.pmuLive = true
    }

    /// A trapped PMU register access by the running `vcpu`. False: UNDEFINED (a counter that
    /// is not implemented).
    @inline(never)
    static func access(_ register: PMURegister, isRead: Bool, _ rt: Int, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> Bool {
        let core = hv.thisCore
        if !vcpu.pmuInUse {
            // First touch: the hardware gets this vCPU's (reset) PMU state.
            vcpu.pmuInUse = true
            load(vcpu, core)
        }
        let value = isRead ? 0 : vcpu.register(rt)
        var result: UInt64 = 0
        let mask = counterMask
        switch register {
        case .control:
            if isRead { result = read_pmcr_el0() } else { write_pmcr_el0((read_pmcr_el0() & ~PMURegister.controlWritable) | (value & PMURegister.controlWritable)) }
        case .countEnableSet:
            if isRead { result = read_pmcntenset_el0() } else { write_pmcntenset_el0(value & mask) }
        case .countEnableClear:
            if isRead { result = read_pmcntenset_el0() } else { write_pmcntenclr_el0(value & mask) }
        case .overflowSet:
            if isRead { result = read_pmovsclr_el0() } else { write_pmovsset_el0(value & mask) }
        case .overflowClear:
            if isRead { result = read_pmovsclr_el0() } else {
                write_pmovsclr_el0(value & mask)
                if vcpu.pmuInterruptsHeld & value != 0 {
                    vcpu.pmuInterruptsHeld &= ~value
                    writeInterruptEnables(vcpu)
                }
            }
        case .interruptEnableSet:
            if isRead { result = vcpu.pmuInterruptEnables } else { vcpu.pmuInterruptEnables |= value & mask; writeInterruptEnables(vcpu) }
        case .interruptEnableClear:
            if isRead { result = vcpu.pmuInterruptEnables } else { vcpu.pmuInterruptEnables &= ~value; writeInterruptEnables(vcpu) }
        case .softwareIncrement:
            if !isRead { softwareIncrement(value & mask & ~(UInt64(1) << 31), vcpu) }
        case .select:
            if isRead { result = read_pmselr_el0() } else { write_pmselr_el0(value & 0x1F) }
        case .commonEventIdentification(let n):
            result = isRead ? (n == 0 ? read_pmceid0_el0() : read_pmceid1_el0()) : 0
        case .cycleCounter:
            if isRead { result = read_pmccntr_el0() } else { write_pmccntr_el0(value) }
        case .userEnable:
            if isRead { result = read_pmuserenr_el0() } else { write_pmuserenr_el0(value & 0xF) }
        case .cycleFilter:
            if isRead { result = read_pmccfiltr_el0() } else { write_pmccfiltr_el0(PMURegister.sanitizeFilter(value)) }
        case .eventCounter(let n):
            guard n < counters else { return false }
            if isRead { result = pmu_event_counter(UInt32(n)) } else { pmu_set_event_counter(UInt32(n), value) }
        case .eventType(let n):
            guard n < counters else { return false }
            if isRead { result = pmu_event_type(UInt32(n)) } else { pmu_set_event_type(UInt32(n), PMURegister.sanitizeFilter(value)) }
        case .selectedCounter, .selectedType:
            // PMSELR_EL0.SEL: an event counter, or 31 for the cycle counter's filter (D19.4.17).
            let n = Int(read_pmselr_el0() & 0x1F)
            let isType = register == .selectedType
            if n == 31 && isType {
                if isRead { result = read_pmccfiltr_el0() } else { write_pmccfiltr_el0(PMURegister.sanitizeFilter(value)) }
            } else if n < counters {
                if isType {
                    if isRead { result = pmu_event_type(UInt32(n)) } else { pmu_set_event_type(UInt32(n), PMURegister.sanitizeFilter(value)) }
                } else {
                    if isRead { result = pmu_event_counter(UInt32(n)) } else { pmu_set_event_counter(UInt32(n), value) }
                }
            }   // otherwise CONSTRAINED UNPREDICTABLE: reads as zero, writes ignored
        }
        isb()
        if isRead { vcpu.setRegister(rt, result) }
        return true
    }

    /// PMSWINC_EL0 (Arm ARM D19.4.16), done here: the hardware would file the hypervisor's own
    /// write under EL2, which the guest's filters exclude. Each counter selected, enabled and
    /// counting SW_INCR (event 0x00) whose filter admits the guest's EL counts one; a 32-bit
    /// counter that wraps sets its overflow flag (and so its interrupt, if enabled).
    static func softwareIncrement(_ selected: UInt64, _ vcpu: VirtualCPU) {
        guard read_pmcr_el0() & 1 != 0 else { return }   // PMCR_EL0.E
        let enabled = selected & read_pmcntenset_el0()
        guard enabled != 0 else { return }
        let atEL0 = SPSR(rawValue: vcpu.frame.pointee.spsr_el2).exceptionLevel == 0
        for n in 0..<counters where enabled & (1 << UInt64(n)) != 0 {
            let type = pmu_event_type(UInt32(n))
            guard type & 0xFFFF == 0 else { continue }
            // Non-secure filtering: EL1 counted when NSK (29) equals P (31), EL0 when NSU (28) equals U (30).
            let counted = atEL0 ? (type >> 28 & 1) == (type >> 30 & 1) : (type >> 29 & 1) == (type >> 31 & 1)
            guard counted else { continue }
            let value = (pmu_event_counter(UInt32(n)) &+ 1) & 0xFFFF_FFFF
            pmu_set_event_counter(UInt32(n), value)
            if value == 0 { write_pmovsset_el0(1 << UInt64(n)) }
        }
    }

    static func writeInterruptEnables(_ vcpu: VirtualCPU) {
        write_pmintenclr_el1(~UInt64(0))
        write_pmintenset_el1(vcpu.pmuInterruptEnables & ~vcpu.pmuInterruptsHeld)
    }

    /// The physical PMU interrupt on a core: the loaded vCPU's counters overflowed. Silence
    /// the source (hold the overflowed counters' enables) and give the guest its INTID 23.
    static func overflowed(_ core: PhysicalCPU, _ hv: Hypervisor) {
        guard core.pmuLive, let v = core.loaded, v.pmuInUse else { pmu_stop(); return }
        let firing = read_pmovsclr_el0() & v.pmuInterruptEnables
        v.pmuInterruptsHeld |= firing
        writeInterruptEnables(v)
        isb()
        if firing != 0 { VirtualInterrupts.raise(intid, vm: v.vm, vcpu: v.id.rawValue, hv) }
    }

    /// Architectural reset: the PMU disabled, counters zero.
    static func reset(_ vcpu: VirtualCPU) {
        vcpu.pmu.initialize(to: pmu_state())
        vcpu.pmuInUse = false
        vcpu.pmuInterruptEnables = 0
        vcpu.pmuInterruptsHeld = 0
    }
}
