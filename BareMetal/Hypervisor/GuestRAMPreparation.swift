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
    /// One piece: 2 MiB, 32768 cache lines, well under a millisecond on hardware and under TCG.
    static let ramPreparationPiece: UInt64 = PageSize.level2Block

    /// `core` is one the VM may run on (its manifest's `cpus`; none: every core).
    func mayPrepareRAM(of vm: VirtualMachine, on core: PhysicalCPU) -> Bool {
        let affinity = vm.manifest.affinity
        return affinity == 0 || affinity & (1 << UInt64(core.index)) != 0
    }

    /// Zeroes and cleans the next piece of `vm`'s RAM on `core`, with the lock released for
    /// the work. False (nothing done) when another core holds a piece of it. Called and
    /// returns with the lock held.
    func prepareRAM(_ vm: VirtualMachine, on core: PhysicalCPU) -> Bool {
        guard let piece = vm.ramPreparation.claim(core: core.index) else { return false }
        let start = vm.hostRAM.base.rawValue + piece.offset
        hypervisor_unlock()
        // SAFETY: the VM's own host RAM (identity mapped at EL2, Normal memory, 2 MiB aligned),
        // which nothing else touches while it is `.rebooting` and this core holds the piece.
        zero_and_clean_to_poc(start, piece.length)
        hypervisor_lock()
        vm.ramPreparation.finish(core: core.index)
        return true
    }
}
