import CArch
import SwiftvisorCore

/// A rebooting (or created) VM's RAM zeroed and cleaned to the Point of Coherency before its
/// next boot, one piece at a time with the hypervisor lock released (issue 11 §1): a guest
/// rebooting in a loop with a large memory no longer holds every core waiting while its RAM
/// is cleared. The VM stays `.rebooting` meanwhile (none of its vCPUs runs, no other domain
/// maps its pages: `reboot` released its grants), so only the core holding the piece touches
/// that RAM. Its own cores do the work (its `cpus`, any core without them): the time goes to
/// the cores it would have run on, between the vCPUs they schedule, or instead of sleeping.
extension Hypervisor {
    /// The most one core claims at a time (64 MiB), and the step between two looks for a
    /// pending interrupt (2 MiB: 32768 cache lines, well under a millisecond on hardware and
    /// under TCG).
    static let ramPreparationPiece: UInt64 = 32 * PageSize.level2Block
    static let ramPreparationStep: UInt64 = PageSize.level2Block

    /// `core` is one the VM may run on (its manifest's `cpus`; none: every core).
    func mayPrepareRAM(of vm: VirtualMachine, on core: PhysicalCPU) -> Bool {
        let affinity = vm.manifest.affinity
        return affinity == 0 || affinity & (1 << UInt64(core.index)) != 0
    }

    /// Zeroes and cleans the next piece of `vm`'s RAM on `core`, with the lock released for
    /// the work: one step, or (`untilInterrupted`: the core has nothing else to run) steps
    /// until the piece is done or a physical interrupt is pending (ISR_EL1.I, Arm ARM D19.2.71:
    /// at EL2 it shows the physical IRQ, which PSTATE.I keeps from being taken here). The
    /// lock is taken again only between pieces, so the other cores seldom meet it held.
    /// False (nothing done) when another core holds a piece of it. Called and returns with
    /// the lock held.
    func prepareRAM(_ vm: VirtualMachine, on core: PhysicalCPU, untilInterrupted: Bool) -> Bool {
        guard let piece = vm.ramPreparation.claim(core: core.index) else { return false }
        let start = vm.hostRAM.base.rawValue + piece.offset
        var zeroed: UInt64 = 0
        hypervisor_unlock()
        repeat {
            let n = min(Self.ramPreparationStep, piece.length - zeroed)
            // SAFETY: the VM's own host RAM (identity mapped at EL2, Normal memory, 2 MiB
            // aligned), which nothing else touches while it is `.rebooting` and this core
            // holds the piece.
            zero_and_clean_to_poc(start + zeroed, n)
            zeroed += n
        } while untilInterrupted && zeroed < piece.length && !physical_irq_pending()
        hypervisor_lock()
        vm.ramPreparation.finish(core: core.index, zeroed: zeroed)
        return true
    }
}
