import CArch
import SwiftvisorCore

/// The guest timers' interrupt lines, as on hardware (Arm ARM D11.2.4): a vCPU's virtual-timer
/// PPI (27) and emulated physical-timer PPI (30) are pending exactly while the timer is
/// enabled, its interrupt unmasked and its condition met; no CNTV_CTL/CNTP_CTL bit the guest
/// sees is changed. As KVM does (arch/arm64/kvm/arch_timer.c): while the vCPU is loaded its
/// virtual timer is the physical CNTV; when that fires the physical PPI is left active and the
/// virtual one goes through a list register linked to it (HW = 1, pINTID), so the guest's
/// deactivation deactivates the physical one and it can fire again. The line is sampled again
/// on the exits that follow (the guest may mask or reprogram the timer without trapping), and
/// from the saved registers when the vCPU is switched out; while it is not loaded its deadline
/// is a software timer (`Hypervisor.runSoftwareTimers`).
enum TimerLines {
    /// The physical INTID of the EL1 virtual timer (from the host DT), which list registers
    /// holding the virtual timer's PPI are linked to.
    nonisolated(unsafe) static var physicalVirtualTimerINTID: UInt32 = InterruptID.virtualTimer

    /// A fresh list register file, the virtual timer's PPI linked to the physical one.
    static func listRegisterFile() -> ListRegisterFile {
        var file = ListRegisterFile(count: VirtualInterrupts.listRegisterCount)
        file.linkedVirtualINTID = InterruptID.virtualTimer
        file.linkedPhysicalINTID = physicalVirtualTimerINTID
        return file
    }

    /// A timer's output from its CTL as read: ENABLE and ISTATUS set, IMASK clear.
    @inline(__always) static func asserted(_ control: UInt64) -> Bool { control & 0b111 == 0b101 }

    /// The loaded vCPU's physical CNTV fired on `core` (the caller has completed it, which in
    /// EOImode 0 also deactivated it): active again until the guest deactivates the virtual one.
    static func virtualTimerFired(_ v: VirtualCPU, _ core: PhysicalCPU, _ hv: Hypervisor) {
        core.interrupts.setPrivateActive(physicalVirtualTimerINTID, true)
        core.virtualTimerActive = true
        setVirtualLine(v, high: true, hv)
        v.gicDirty = true
    }

    /// The loaded vCPU's virtual timer output from the live CNTV_CTL_EL0 (on its own core).
    /// The physical PPI is kept active while the line is high (the guest has the interrupt),
    /// inactive while low (so that the next expiry reaches the hypervisor).
    static func resampleVirtual(_ v: VirtualCPU, _ hv: Hypervisor) {
        let high = asserted(read_guest_cntv_ctl_el0())
        if high != v.virtualTimerLine { setVirtualLine(v, high: high, hv) }
        setPhysicalActive(high, hv.thisCore)
    }

    /// World switch out, after the registers and list registers were saved: the line from the
    /// saved CNTV_CTL (whose ISTATUS was read before the timer was stopped).
    @inline(__always)
    static func switchedOut(_ v: VirtualCPU, _ hv: Hypervisor) {
        let high = asserted(v.el1.pointee.cntv_ctl)
        if high != v.virtualTimerLine { setVirtualLine(v, high: high, hv) }
    }

    /// World switch in: the physical PPI active exactly while the incoming vCPU's line is high
    /// (its list register, if loaded, is linked to it).
    @inline(__always)
    static func switchedIn(_ v: VirtualCPU, _ core: PhysicalCPU) {
        setPhysicalActive(v.virtualTimerLine, core)
    }

    /// Only what changes is written (an MMIO write on every world switch otherwise). When the
    /// guest has deactivated it meanwhile, the write skipped leaves it inactive with the line
    /// high: it fires once more and `virtualTimerFired` makes it active (one exit, no loss).
    @inline(__always)
    static func setPhysicalActive(_ active: Bool, _ core: PhysicalCPU) {
        guard active != core.virtualTimerActive else { return }
        core.interrupts.setPrivateActive(physicalVirtualTimerINTID, active)
        core.virtualTimerActive = active
    }

    /// The guest wrote CNTP_CTL/CVAL/TVAL: the emulated timer's line follows at once.
    static func physicalTimerWritten(_ v: VirtualCPU, now: UInt64, _ hv: Hypervisor) {
        setLine(InterruptID.physicalTimer, v, high: v.physicalTimer.sample(now: now), hv)
    }

    /// Before the guest reads or writes its GIC: both lines sampled now (its timer may have
    /// expired or been masked since the last exit), and the list registers reconciled with
    /// what it completed, so that GICR_ISPENDR0/GICD_ISPENDR show the lines' pending state.
    static func beforeGICAccess(_ v: VirtualCPU, _ hv: Hypervisor) {
        resampleVirtual(v, hv)
        physicalTimerWritten(v, now: read_cntpct_el0(), hv)
        v.gicDirty = true
        VirtualInterrupts.prepareEntry(v)
        VirtualInterrupts.foldListRegisters(v.vm)
    }

    static func setVirtualLine(_ v: VirtualCPU, high: Bool, _ hv: Hypervisor) {
        v.virtualTimerLine = high
        setLine(InterruptID.virtualTimer, v, high: high, hv)
    }

    /// Sets one of `v`'s private level-sensitive lines. A falling line also takes the
    /// interrupt back from a list register the guest has not taken it from yet.
    static func setLine(_ intid: UInt32, _ v: VirtualCPU, high: Bool, _ hv: Hypervisor) {
        let id = v.id.rawValue
        if high {
            if let target = v.vm.gic.setLine(intid, high: true, vcpu: id) { VirtualInterrupts.kick(v.vm.vcpus[target], hv) }
            return
        }
        v.vm.gic.setLine(intid, high: false, vcpu: id)
        // The private lines of a loaded vCPU change only on its own core: its LRs are here.
        if v.loadedOn != nil { VirtualInterrupts.syncFromHardware(v) }
        v.listRegisters.withdraw(intid, &v.vm.gic, vcpu: id)
        v.gicDirty = true
    }
}
