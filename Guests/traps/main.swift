import CGuest
import SwiftvisorCore

/// Issue 11 §2, hardened traps, as a guest sees them: IMPLEMENTATION DEFINED registers (which
/// would tell the physical core count and GIC base) and LORegion / trace filter registers are
/// UNDEFINED, RAS error records absent; SMCCC 1.1 with the Arm architecture workarounds
/// answered for the physical CPU (and callable when offered); PSCI CPU_SUSPEND, which the device
/// tree advertises, returns after an interrupt; cache maintenance by VA on an emulated device
/// is a no-op. It prints what it saw; exit code = failures.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    // ESR_EL1.EC 0x00: "Unknown reason", what an UNDEFINED instruction gives.
    func undefined(_ esr: UInt64?) -> Bool { esr.map { $0 >> 26 == 0 } ?? false }

    var leak: UInt64 = 0
    c.expect("L2CTLR_EL1 (physical core count) -> undefined", undefined(Guest.probe { leak |= read_l2ctlr_el1() }))
    c.expect("L2ECTLR_EL1 -> undefined", undefined(Guest.probe { leak |= read_l2ectlr_el1() }))
    c.expect("CPUACTLR_EL1 -> undefined", undefined(Guest.probe { leak |= read_cpuactlr_el1() }))
    c.expect("CPUECTLR_EL1 -> undefined", undefined(Guest.probe { leak |= read_cpuectlr_el1() }))
    c.expect("CBAR_EL1 (physical GIC base) -> undefined", undefined(Guest.probe { leak |= read_cbar_el1() }))
    c.expect("nothing read from the IMPLEMENTATION DEFINED registers", leak == 0)
    c.expect("LORID_EL1 -> undefined", undefined(Guest.probe { _ = read_lorid_el1() }))
    c.expect("ID_AA64MMFR1_EL1.LO = 0 (no LORegions offered)", read_id_aa64mmfr1_el1() >> 16 & 0xF == 0)
    c.expect("TRFCR_EL1 -> undefined", undefined(Guest.probe { _ = read_trfcr_el1() }))
    var erridr: UInt64 = 1
    let ras = Guest.probe { erridr = read_erridr_el1() }
    c.expect("ERRIDR_EL1: no error records (reads 0, or undefined without FEAT_RAS)", ras == nil ? erridr == 0 : undefined(ras))

    // SMCCC 1.1 (DEN0028): discovered through PSCI_FEATURES as Linux does.
    c.expect("PSCI_FEATURES(SMCCC_VERSION) -> 0", smccc_hvc(0x8400_000A, 0x8000_0000, 0, 0), 0)
    c.expect("SMCCC_VERSION -> 1.1", smccc_hvc(0x8000_0000, 0, 0, 0), 0x1_0001)
    c.expect("SMCCC_ARCH_FEATURES(SMCCC_ARCH_FEATURES) -> 0", smccc_hvc(0x8000_0001, 0x8000_0001, 0, 0), 0)
    let wa1 = smccc_hvc(0x8000_0001, 0x8000_8000, 0, 0), wa2 = smccc_hvc(0x8000_0001, 0x8000_7FFF, 0, 0)
    let wa3 = smccc_hvc(0x8000_0001, 0x8000_3FFF, 0, 0)
    Guest.print("SMCCC_ARCH_FEATURES: WORKAROUND_1 \(wa1), WORKAROUND_2 \(wa2), WORKAROUND_3 \(wa3)")
    c.expect("SMCCC_ARCH_FEATURES by SMC answers as by HVC", smccc_smc(0x8000_0001, 0x8000_8000, 0, 0), wa1)
    if wa1 == 0 {
        c.expect("SMCCC_ARCH_WORKAROUND_1 (HVC) -> 0", smccc_hvc(0x8000_8000, 0, 0, 0), 0)
        c.expect("SMCCC_ARCH_WORKAROUND_1 (SMC) -> 0", smccc_smc(0x8000_8000, 0, 0, 0), 0)
    }
    if wa3 == 0 { c.expect("SMCCC_ARCH_WORKAROUND_3 -> 0", smccc_hvc(0x8000_3FFF, 0, 0, 0), 0) }

    let wfxt = read_id_aa64isar2_el1() & 0xF != 0
    Guest.print(wfxt ? "FEAT_WFxT present" : "no FEAT_WFxT")

    // PSCI CPU_SUSPEND: advertised in the device tree; a standby that returns SUCCESS once an
    // interrupt is pending (here the virtual timer, 2 ms ahead, with IRQs masked).
    c.expect("PSCI_FEATURES(CPU_SUSPEND) -> 0", smccc_hvc(0x8400_000A, 0xC400_0001, 0, 0), 0)
    Interrupts.start(cpu: 0)
    Interrupts.enable(InterruptID.virtualTimer, cpu: 0)
    let deadline = read_cntvct() + read_cntfrq() / 500
    write_cntv_cval_el0(deadline); write_cntv_ctl_el0(1)
    let suspended = smccc_hvc(0xC400_0001, 0, 0x4008_0000, 0)
    let woke = read_cntvct()
    write_cntv_ctl_el0(0)
    c.expect("CPU_SUSPEND -> SUCCESS", suspended, 0)
    c.expect("CPU_SUSPEND returned once the timer interrupt was pending", woke >= deadline)
    drainInterrupts()

    // WFIT (FEAT_WFxT, Arm ARM C6.2): a WFI that also ends when CNTVCT_EL0 reaches its register.
    // Trapped (HCR_EL2.TWI); QEMU 10.0's max leaves the register out of the syndrome (RV = 0).
    if wfxt {
        let tick = read_cntfrq() / 1000
        let timeout = read_cntvct() + 5 * tick
        guest_wfit(timeout)
        let back = read_cntvct()
        c.expect("WFIT with nothing pending returned at its timeout (not before)", back >= timeout)
        c.expect("WFIT with nothing pending returned within 1 s of its timeout", back < timeout + 1000 * tick)
        let timer = read_cntvct() + 2 * tick, far = timer + 2000 * tick
        write_cntv_cval_el0(timer); write_cntv_ctl_el0(1)
        guest_wfit(far)
        let woken = read_cntvct()
        write_cntv_ctl_el0(0)
        drainInterrupts()
        c.expect("WFIT returned once the timer interrupt was pending", woken >= timer)
        c.expect("WFIT ended by the interrupt well before its timeout", woken < timer + 1000 * tick)
    }

    // Cache maintenance by VA on an emulated device (the UART): skipped, as KVM does.
    c.expect("DC CIVAC on the UART -> no fault", Guest.probe { dc_civac(0x0900_0000) } == nil)
    c.expect("still alive", Guest.consoleWrite("traps done"), 0)
    c.finish()
}

/// Acknowledges and ends whatever interrupt is pending (IRQs stay masked): a WFI or WFIT after
/// it must not see an old one.
func drainInterrupts() {
    while true {
        let iar = Interrupts.acknowledge()
        if iar & 0x3FF >= 1020 { return }
        Interrupts.endOfInterrupt(iar)
    }
}
