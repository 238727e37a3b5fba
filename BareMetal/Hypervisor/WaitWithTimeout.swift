import CArch
import SwiftvisorCore

/// WFIT (FEAT_WFxT, Arm ARM C6.2, "WFIT"): a WFI that also completes when the virtual count
/// reaches the value in its register. The vCPU sleeps as in WFI with a deadline the
/// hypervisor's timer keeps (`Hypervisor.runSoftwareTimers`/`armTimer`).
@inline(never)
func waitWithTimeout(until virtualCount: UInt64, esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    vcpu.skipInstruction(esr)
    if VirtualInterrupts.hasPending(vcpu) { return .resume }
    // CNTVCT = CNTPCT - CNTVOFF (Arm ARM D11.2.4): the deadline on the physical counter.
    let deadline = virtualCount &+ vcpu.vm.cntvoff
    if read_cntpct_el0() >= deadline { return .resume }
    vcpu.waitDeadline = deadline
    vcpu.vm.showUnfinishedLine()
    hv.scheduler.setState(vcpu.slot, .blocked)
    return .reschedule
}

/// A trapped WFIT whose syndrome leaves the register unknown (ESR.RV = 0, as QEMU 10.0's `max`
/// reports it): the register comes from the instruction at ELR_EL2, read through the guest's
/// stage 1 and stage 2 (`GuestMemory`). If the fetch fails or the word is not a WFIT, it
/// completes at once after letting others run (a WFIT may end early, Arm ARM D1.6.2).
@inline(never)
func waitWithTimeoutFromInstruction(esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    // WFIT is A64 only; an AArch32 EL0 has no such instruction.
    if !SPSR(rawValue: vcpu.frame.pointee.spsr_el2).isAArch32,
       let word = GuestMemory.read32(vcpu.frame.pointee.elr_el2, vcpu: vcpu), let wfit = WFITInstruction(word) {
        return waitWithTimeout(until: vcpu.register(wfit.register), esr: esr, vcpu, hv)
    }
    vcpu.skipInstruction(esr)
    return .reschedule
}

enum WaitWithTimeout {
    /// The timeout passed: the vCPU wakes if it still sleeps (an interrupt may have woken it
    /// first; a later WFI woken now only sees a spurious wake-up, which WFI allows).
    static func timedOut(_ v: VirtualCPU, _ hv: Hypervisor) {
        v.waitDeadline = nil
        VirtualInterrupts.kick(v, hv)   // wakes it (if blocked) and signals its core, as a timed-out poll
    }
}
