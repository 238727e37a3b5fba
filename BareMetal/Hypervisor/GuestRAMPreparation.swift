import CArch
import SwiftvisorCore

/// A rebooting or created VM's RAM zeroed and cleaned to the Point of Coherency, and its
/// kernel and initrd copied in, before its next boot, one piece at a time with the hypervisor
/// lock released (issue 11 §1; at the start, before the lock is first taken, the same pieces
/// inline): a guest rebooting in a loop with a large memory or
/// large images no longer holds every core waiting while its RAM is prepared. The VM stays
/// `.rebooting` meanwhile (none of its vCPUs runs, no other domain maps its pages: `reboot`
/// released its grants), so only the core holding the piece touches that RAM. Its own cores
/// do the work (its `cpus`, any core without them): the time goes to the cores it would have
/// run on, between the vCPUs they schedule, or instead of sleeping.
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

    /// Prepares the next piece of `vm`'s RAM on `core` (zeroes it, or copies a boot image's
    /// bytes in, and cleans it to the Point of Coherency), with the lock released for the
    /// work: one step, or (`untilInterrupted`: the core has nothing else to run) steps until
    /// the piece is done or a physical interrupt is pending (ISR_EL1.I, Arm ARM D19.2.71: at
    /// EL2 it shows the physical IRQ, which PSTATE.I keeps from being taken here). The lock is
    /// taken again only between pieces, so the other cores seldom meet it held. False
    /// (nothing done) when another core holds a piece of it, or nothing is left to do. Called
    /// and returns with the lock held.
    func prepareRAM(_ vm: VirtualMachine, on core: PhysicalCPU, untilInterrupted: Bool) -> Bool {
        guard let piece = vm.ramPreparation.claim(core: core.index) else { return false }
        hypervisor_unlock()
        let prepared = Self.prepare(piece, of: vm, untilInterrupted: untilInterrupted)
        hypervisor_lock()
        vm.ramPreparation.finish(core: core.index, prepared: prepared)
        return true
    }

    /// A guest that starts with the hypervisor: all of its RAM prepared at once, with a
    /// progress line per quarter for a large one. Only while the guests are built, before
    /// the lock is first taken and before any other core runs.
    static func prepareRAMAtStart(_ vm: VirtualMachine) {
        let size = vm.hostRAM.size
        var quartersShown: UInt64 = 0
        while let piece = vm.ramPreparation.claim(core: 0) {
            while size >= progressThreshold && piece.source == nil && quartersShown < 4 && piece.offset >= quartersShown * (size / 4) {
                // "swiftvisor: guest 'x': preparing 16384 MiB of RAM... 50%"
                Console.logGuest(vm.name, "': preparing "); Console.decimal(size >> 20); Console.write(" MiB of RAM... ")
                Console.decimal(quartersShown * 25); Console.write("%\n")
                quartersShown += 1
            }
            vm.ramPreparation.finish(core: 0, prepared: prepare(piece, of: vm, untilInterrupted: true))
        }
    }

    /// Zeroes `piece` of `vm`'s RAM, or copies a boot image's bytes into it, and cleans it to
    /// the Point of Coherency: one step, or (`untilInterrupted`) steps until the piece is done or
    /// a physical interrupt is pending. Returns the bytes done. The lock need not be held: the
    /// caller holds the piece.
    private static func prepare(_ piece: RAMPreparation.Piece, of vm: VirtualMachine, untilInterrupted: Bool) -> UInt64 {
        let start = vm.hostRAM.base.rawValue + piece.offset
        var prepared: UInt64 = 0
        repeat {
            let n = min(ramPreparationStep, piece.length - prepared)
            if let source = piece.source {
                // SAFETY: the VM's own host RAM as below; the source is a boot module in
                // reserved host RAM, which nothing writes. The guest starts with its MMU and
                // caches off: the copy must reach memory (Arm ARM D7.5).
                UnsafeMutableRawPointer(bitPattern: UInt(start + prepared))!
                    .copyMemory(from: UnsafeRawPointer(bitPattern: UInt(source + prepared))!, byteCount: Int(n))
                clean_dcache_to_poc(start + prepared, n)
            } else {
                // SAFETY: the VM's own host RAM (identity mapped at EL2, Normal memory, 2 MiB
                // aligned), which nothing else touches while it is `.rebooting` and this core
                // holds the piece.
                zero_and_clean_to_poc(start + prepared, n)
            }
            prepared += n
        } while untilInterrupted && prepared < piece.length && !physical_irq_pending()
        return prepared
    }

    /// RAM from which a progress line is printed at each quarter when a guest starts with the
    /// hypervisor: zeroing and cleaning 1 GiB takes a few seconds under QEMU's TCG, 16 GiB
    /// most of a minute.
    static let progressThreshold: UInt64 = 1 << 30
}
