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

enum WaitWithTimeout {
    /// The timeout passed: the vCPU wakes if it still sleeps (an interrupt may have woken it
    /// first; a later WFI woken now only sees a spurious wake-up, which WFI allows).
    static func timedOut(_ v: VirtualCPU, _ hv: Hypervisor) {
        v.waitDeadline = nil
        VirtualInterrupts.kick(v, hv)   // wakes it (if blocked) and signals its core, as a timed-out poll
    }
}
