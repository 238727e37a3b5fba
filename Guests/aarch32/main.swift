import CGuest
import SwiftvisorCore

/// Issue 11 §2: a guest whose AArch64 EL1 kernel runs AArch32 EL0 code (Guests/Kit/aarch32.S),
/// as a 32-bit process under a 64-bit Linux runs. EL0 executes a 16-bit T32 WFI, a 32-bit T32
/// WFI and an A32 WFI, each trapped to EL2 (HCR_EL2.TWI, SCTLR_EL1.nTWI = 1) and woken by the
/// virtual timer, and must resume at the next instruction (which counts in R0) and reach its
/// SVC; then it spins until the timer's interrupt, which EL1 must take at VBAR_EL1 + 0x680
/// (lower EL using AArch32, IRQ); then it loads from outside the guest's memory, a data abort
/// the hypervisor injects at VBAR_EL1 + 0x600 (lower EL using AArch32, synchronous). Prints
/// what it saw; exit code = failures.
/// Virtual timer interrupts taken (the kit's handler runs them with R0-R14 saved).
nonisolated(unsafe) var timerInterrupts = 0

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    // ID_AA64PFR0_EL1.EL0 (bits 3:0): 0b0010, EL0 runs AArch64 or AArch32.
    guard read_id_aa64pfr0_el1() & 0xF == 2 else {
        Guest.print("aarch32: EL0 is AArch64 only")
        c.finish()
    }
    Interrupts.start(cpu: 0)
    Interrupts.enable(InterruptID.virtualTimer, cpu: 0)
    Interrupts.handler = { intid in
        if intid == InterruptID.virtualTimer { timerInterrupts += 1; write_cntv_ctl_el0(0) }
    }
    a32_setup()

    // SPSR_EL1 for an exception taken from AArch32 state (Arm ARM, SPSR_EL1): M[4:0] = 0b10000 User, T (bit 5) T32,
    // F, I, A (bits 6, 7, 8) masked.
    let user: UInt64 = 0b1_0000, thumb: UInt64 = 1 << 5, masked: UInt64 = 0b111 << 6, irqOpen: UInt64 = 0b101 << 6
    let tick = read_cntfrq() / 1000

    /// Runs one WFI piece with IRQs masked at EL0: the timer, 2 ms ahead, wakes the WFI; the
    /// interrupt stays pending and is acknowledged here. R0 counts the instruction after WFI.
    func wfi(_ name: StaticString, at pc: UInt64, spsr: UInt64, svcReturn: UInt64) {
        let deadline = read_cntvct() + 2 * tick
        write_cntv_cval_el0(deadline); write_cntv_ctl_el0(1)
        let vector = a32_run(pc, spsr, 0, 0)
        let woke = read_cntvct()
        write_cntv_ctl_el0(0)
        while true {   // the virtual timer's interrupt, pending while EL0 had IRQs masked
            let iar = Interrupts.acknowledge()
            if iar & 0x3FF >= 1020 { break }
            Interrupts.endOfInterrupt(iar)
        }
        let r = a32_last()
        if vector == 0x600 && r.esr >> 26 == 0x11 && r.r0 == 1 && r.elr == svcReturn && woke >= deadline {
            Guest.print("aarch32: \(name) wfi resumed ok")
            return
        }
        c.expect(name, false)
        Guest.print("aarch32: \(name) wfi: vector \(hex(vector)), ESR \(hex(r.esr)), ELR \(hex(r.elr)) (SVC's return \(hex(svcReturn))), R0 \(r.r0) (want 1), woke before the timer: \(woke < deadline)")
    }
    wfi("thumb16", at: a32_thumb16_wfi(), spsr: user | thumb | masked, svcReturn: a32_thumb16_wfi() + 6)
    wfi("thumb32", at: a32_thumb32_wfi(), spsr: user | thumb | masked, svcReturn: a32_thumb32_wfi() + 8)
    wfi("arm", at: a32_arm_wfi(), spsr: user | masked, svcReturn: a32_arm_wfi() + 12)

    // The timer's interrupt while EL0 spins with IRQs unmasked: taken at +0x680.
    a32_clear()
    timerInterrupts = 0
    write_cntv_cval_el0(read_cntvct() + 2 * tick); write_cntv_ctl_el0(1)
    let loop = a32_irq_loop()
    let vector = a32_run(loop, user | thumb | irqOpen, 0, 0)
    let r = a32_last()
    // The interrupted state: User mode, T32, inside the loop (CMP or BEQ).
    let fromLoop = r.irq_spsr & 0x3F == user | thumb && (r.irq_elr == loop || r.irq_elr == loop + 2)
    if vector == 0x600 && r.esr >> 26 == 0x11 && r.irqs == 1 && timerInterrupts == 1 && fromLoop {
        Guest.print("aarch32: timer interrupt taken at VBAR_EL1 + 0x680")
    } else {
        c.expect("timer interrupt at +0x680", false)
        Guest.print("aarch32: timer interrupt: run ended at \(hex(vector)) (ESR \(hex(r.esr))), IRQs at +0x680: \(r.irqs), timer handler: \(timerInterrupts), SPSR \(hex(r.irq_spsr)), ELR \(hex(r.irq_elr))")
    }

    // A load outside the guest's memory (EL0's alias of IPA 0x44000000; RAM is 8 MiB at
    // 0x40000000): the hypervisor injects a data abort (EC 0x24, from a lower EL).
    let outside: UInt64 = 0xC400_0000, load = a32_arm_load()
    let abort = a32_run(load, user | masked, 0, outside)
    let a = a32_last()
    if abort == 0x600 && a.esr >> 26 == 0x24 && a.elr == load && a.far == outside {
        Guest.print("aarch32: data abort injected at VBAR_EL1 + 0x600")
    } else {
        c.expect("data abort at +0x600", false)
        Guest.print("aarch32: data abort: vector \(hex(abort)), ESR \(hex(a.esr)), ELR \(hex(a.elr)) (want \(hex(load))), FAR \(hex(a.far))")
    }
    Guest.print(c.failures == 0 ? "aarch32: PASS" : "aarch32: FAIL")
    c.finish()
}
