import CArch
import SwiftvisorCore

/// Set/way cache maintenance and the registers HCR_EL2.TVM traps meanwhile, as KVM does it
/// (SetWayEmulation says when a clean is due). The clean covers all of the guest's RAM, so it
/// runs with the hypervisor lock released (other cores go on scheduling and handling exits)
/// and stops at the next chunk boundary when a physical interrupt is pending (the slice ended,
/// a vCPU woke, the VM is being ended or rebooted): the trapped instruction is then not
/// skipped, and when the vCPU runs it again the clean goes on where it stopped.
///
/// Only the vCPU's own `setWay` state and the VM's `hostRAM` (fixed for its lifetime) are used
/// while the lock is released. The VM cannot be reloaded under the clean: a reboot waits until
/// none of its vCPUs runs (`completeReboots`), and this one still runs here. Two vCPUs of a VM
/// may clean at once, each for its own instruction: cleaning is idempotent, and each pays with
/// its own time.
enum SetWay {
    /// DC ISW/CSW/CISW.
    @inline(never)
    static func operation(_ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
        let wasTrapping = vcpu.setWay.trapsVirtualMemoryControls
        let step = vcpu.setWay.setWayOperation()
        // Only on a change: under QEMU an HCR_EL2 write takes its global I/O lock.
        if vcpu.setWay.trapsVirtualMemoryControls != wasTrapping { writeHCR(vcpu) }
        return perform(step, vcpu, hv) {}
    }

    /// A set/way operation with nothing to do (HCR_EL2.TVM already set, no clean in progress:
    /// the rest of a sweep, 33,280 traps for QEMU's caches) is skipped before the lock is
    /// taken: it reads only the running vCPU's own `setWay`, which no other core changes while
    /// the vCPU runs here. False for anything else, which takes the usual path.
    @inline(never)
    static func skipWithoutLock(_ esr: ESR, _ frame: UnsafeMutablePointer<vcpu_frame>) -> Bool {
        guard SystemRegisterAction(SystemRegisterAccess(esr: esr)) == .cacheSetWay else { return false }
        // SAFETY: as in swiftvisorGuestExit: exits happen only after boot set these; the
        // hypervisor, its cores and vCPUs are never freed; only this core changes its `loaded`.
        return hypervisorRef.unsafelyUnwrapped._withUnsafeGuaranteedRef { hv in
            hv.coreRefs[Int(this_core().pointee.core)]._withUnsafeGuaranteedRef { core in
                guard let loaded = core.loadedRef else { return false }
                return loaded._withUnsafeGuaranteedRef { vcpu in
                    guard vcpu.setWay.trapsVirtualMemoryControls, vcpu.setWay.cursor == nil else { return false }
                    frame.pointee.elr_el2 &+= 4
                    return true
                }
            }
        }
    }

    /// A write (MSR) to SCTLR_EL1, TTBR0/1_EL1, TCR_EL1, ... trapped by HCR_EL2.TVM: the value
    /// goes to the register, as the guest meant, after any clean the write calls for.
    @inline(never)
    static func controlWrite(_ register: VirtualMemoryControlRegister, _ value: UInt64,
                             _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
        let step = register == .sctlr ? vcpu.setWay.systemControlWrite(old: read_guest_sctlr_el1(), new: value)
                                      : vcpu.setWay.otherControlWrite()
        return perform(step, vcpu, hv) {
            write(register, value)
            if register == .sctlr {
                vcpu.setWay.systemControlWritten(value)
                writeHCR(vcpu)
            }
        }
    }

    /// HCR_EL2 for `vcpu` (loaded on this core): the guests' configuration, TVM as its
    /// set/way state wants. Written at every world switch and when TVM changes.
    /// HCR_EL2 for guests on this machine: the EL2 regime's, with the optional traps this CPU
    /// has (FeatureTraps: TLOR, TERR); set once at boot by configureEL2.
    nonisolated(unsafe) static var baseHCR = HCR(rawValue: 0)

    static func writeHCR(_ vcpu: VirtualCPU) {
        var hcr = baseHCR
        hcr.tvm = vcpu.setWay.trapsVirtualMemoryControls
        write_hcr_el2(hcr.rawValue)
    }

    /// Cleans as `step` says, then applies `effect` and skips the instruction; or, if the
    /// clean was interrupted, leaves the instruction to run again and takes the interrupts.
    private static func perform(_ step: SetWayEmulation.Step, _ vcpu: VirtualCPU, _ hv: Hypervisor,
                                _ effect: () -> Void) -> ExitOutcome {
        if step == .clean {
            let done = clean(vcpu)
            // Ended or rebooted by another core meanwhile: nothing more of it runs.
            guard vcpu.vm.state == .running else { return .reschedule }
            guard done else { return hv.handlePhysicalInterrupts(hv.thisCore) ? .reschedule : .resume }
        }
        effect()
        vcpu.skipInstruction()
        return .resume
    }

    /// Cleans and invalidates the guest's RAM to the PoC by VA from the cursor on, with the
    /// lock released, at least one chunk, until the end (true) or until a physical interrupt is
    /// pending (false, the cursor saved). Called and returns with the lock held.
    private static func clean(_ vcpu: VirtualCPU) -> Bool {
        let ram = vcpu.vm.hostRAM
        var offset = vcpu.setWay.cursor ?? 0
        hypervisor_unlock()
        repeat {
            let size = min(SetWayEmulation.chunkSize, ram.size - offset)
            clean_invalidate_dcache_to_poc(ram.base.rawValue + offset, size)
            offset += size
        } while offset < ram.size && read_isr_el1() == 0
        hypervisor_lock()
        return vcpu.setWay.advance(to: offset, of: ram.size) == .complete
    }

    /// The loaded guest's register (its EL1 context is live on this core).
    private static func write(_ register: VirtualMemoryControlRegister, _ value: UInt64) {
        switch register {
        case .sctlr: write_guest_sctlr_el1(value)
        case .ttbr0: write_guest_ttbr0_el1(value)
        case .ttbr1: write_guest_ttbr1_el1(value)
        case .tcr: write_guest_tcr_el1(value)
        case .afsr0: write_guest_afsr0_el1(value)
        case .afsr1: write_guest_afsr1_el1(value)
        case .esr: write_guest_esr_el1(value)
        case .far: write_guest_far_el1(value)
        case .mair: write_guest_mair_el1(value)
        case .amair: write_guest_amair_el1(value)
        case .contextidr: write_guest_contextidr_el1(value)
        }
    }
}
