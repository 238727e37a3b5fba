import CArch
import SwiftvisorCore

/// WFIT (FEAT_WFxT, Arm ARM C6.2, "WFIT"): a WFI that also completes when the virtual count
/// reaches the value in its register. The vCPU sleeps as in WFI with a deadline the
/// hypervisor's timer keeps (`Hypervisor.runSoftwareTimers`/`armTimer`).
@inline(never)
func waitWithTimeout(until virtualCount: UInt64, esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    vcpu.skipInstruction(esr)
    if VirtualInterrupts.hasPending(vcpu) { return .resume }
    return sleepUntilTimeout(virtualCount, vcpu, hv)
}

/// Blocks `vcpu` (past its WFIT, nothing pending) until an interrupt or CNTVCT_EL0 >= `virtualCount`.
func sleepUntilTimeout(_ virtualCount: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    // CNTVCT = CNTPCT - CNTVOFF (Arm ARM D11.2.4): the deadline on the physical counter.
    let deadline = virtualCount &+ vcpu.vm.cntvoff
    if read_cntpct_el0() >= deadline { return .resume }
    vcpu.waitDeadline = deadline
    vcpu.vm.showUnfinishedLine()
    hv.scheduler.setState(vcpu.slot, .blocked)
    return .reschedule
}

/// The timeout (a CNTVCT_EL0 value) of the WFIT at guest VA `address`, read through the
/// guest's stage 1 and stage 2 (`GuestMemory`); nil if the vCPU is in AArch32 state (WFIT is
/// A64 only), the word cannot be read, or it is not a WFIT.
@inline(never)
func wfitTimeout(at address: UInt64, _ vcpu: VirtualCPU) -> UInt64? {
    guard !SPSR(rawValue: vcpu.frame.pointee.spsr_el2).isAArch32,
          let word = GuestMemory.read32(address, vcpu: vcpu), let wfit = WFITInstruction(word) else { return nil }
    return vcpu.register(wfit.register)
}

/// A trapped WFIT whose syndrome leaves the register unknown (ESR.RV = 0): the register comes
/// from the instruction at ELR_EL2. If that fails, it completes at once after letting others
/// run (a WFIT may end early, Arm ARM D1.6.2).
@inline(never)
func waitWithTimeoutFromInstruction(esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    if let timeout = wfitTimeout(at: vcpu.frame.pointee.elr_el2, vcpu) {
        return waitWithTimeout(until: timeout, esr: esr, vcpu, hv)
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
