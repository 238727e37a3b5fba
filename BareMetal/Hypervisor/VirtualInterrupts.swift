import CArch
import SwiftvisorCore

/// Virtual interrupt delivery through the GIC's virtual CPU interface (`VirtualCPUInterface`:
/// GICv3 ICH_* registers or GICv2 GICH): the VM's `VirtualGIC` model decides what is pending;
/// a vCPU's `ListRegisterFile` mirrors its list registers.
enum VirtualInterrupts {
    /// Number of list registers the hardware has.
    nonisolated(unsafe) static var listRegisterCount = 4
    /// ICH_HCR_EL2/GICH_HCR.En (bit 0) and UIE (bit 1, underflow maintenance interrupt).
    static let enable: UInt64 = 1
    static let underflowInterrupt: UInt64 = 1 << 1

    static func probe() { listRegisterCount = VirtualCPUInterface.listRegisterCount() }

    /// Makes `intid` pending for `vcpu` of `vm`; wakes the vCPU it is delivered to.
    static func raise(_ intid: UInt32, vm: VirtualMachine, vcpu: Int, _ hv: Hypervisor) {
        guard let target = vm.gic.raise(intid, vcpu: vcpu) else { return }
        kick(vm.vcpus[target], hv)
    }

    /// The emulated PL011's interrupt line (UARTINTR: SPI 1 = INTID 33 in the virt layout,
    /// GUEST_VPL011_SPI = INTID 32 in the xen one) follows its state.
    static func updateUARTLine(_ vm: VirtualMachine, _ hv: Hypervisor) {
        vm.uartLine = vm.uart.interruptLine
        if let target = vm.gic.setLine(32 + vm.layout.uartSPI, high: vm.uartLine) {
            kick(vm.vcpus[target], hv)
        }
    }

    /// Something may be deliverable to `vcpu`: refill its LRs before it next runs, wake it if
    /// it waits in WFI, and make the core that runs (or should run) it notice.
    static func kick(_ vcpu: VirtualCPU, _ hv: Hypervisor) {
        vcpu.gicDirty = true
        let woken = hv.scheduler.wake(vcpu.slot, now: read_cntpct_el0())
        hv.kick(for: vcpu, woken: woken)
    }

    /// Reads back the hardware LRs that hold interrupts (the loaded vCPU only).
    static func syncFromHardware(_ vcpu: VirtualCPU) {
        var mask = vcpu.listRegisters.inUseMask
        var n = 0
        while mask != 0 {
            if mask & 1 != 0 { vcpu.listRegisters.registers[n] = VirtualCPUInterface.readLR(n) }
            mask >>= 1; n += 1
        }
    }

    /// Gives the VM's distributor model what its vCPUs' list registers show, for a guest's read
    /// of the pending and active registers: exact for the accessing vCPU (read back just
    /// before), as of their last exit for the others (KVM reads the same: each vCPU's LRs as
    /// folded at its last exit).
    static func foldListRegisters(_ vm: VirtualMachine) {
        for (id, v) in vm.vcpus.enumerated() { v.listRegisters.fold(into: &vm.gic, vcpu: id) }
    }

    /// Before entering the loaded vCPU: reconcile and refill its LRs if anything changed.
    @inline(__always)
    static func prepareEntry(_ vcpu: VirtualCPU) {
        guard vcpu.gicDirty else { return }
        vcpu.gicDirty = false
        syncFromHardware(vcpu)
        // While its timer's line is high, each exit samples it again (TimerLines).
        if vcpu.virtualTimerLine { TimerLines.resampleVirtual(vcpu, hypervisor.unsafelyUnwrapped); vcpu.gicDirty = vcpu.virtualTimerLine }
        vcpu.underflowWanted = vcpu.listRegisters.refresh(&vcpu.vm.gic, vcpu: vcpu.id.rawValue)
        var changed = vcpu.listRegisters.changed
        var n = 0
        while changed != 0 {
            if changed & 1 != 0 { VirtualCPUInterface.writeLR(n, vcpu.listRegisters.registers[n]) }
            changed >>= 1; n += 1
        }
        VirtualCPUInterface.writeHCR(enable | (vcpu.underflowWanted ? underflowInterrupt : 0))
        if vcpu.listRegisters.completedPassthrough != 0 {
            hypervisor.unsafelyUnwrapped.reenablePassthrough(vcpu.listRegisters.completedPassthrough)
        }
    }

    /// World switch: the outgoing vCPU's interface state into memory, the incoming one's out.
    static func save(_ vcpu: VirtualCPU) {
        syncFromHardware(vcpu)
        (vcpu.vmcr, vcpu.ap0r0, vcpu.ap1r0) = VirtualCPUInterface.saveControls()
    }

    static func restore(_ vcpu: VirtualCPU) {
        VirtualCPUInterface.restore(count: listRegisterCount, { vcpu.listRegisters.registers[$0] }, vmcr: vcpu.vmcr, group0: vcpu.ap0r0,
                                    group1: vcpu.ap1r0, hcr: enable | (vcpu.underflowWanted ? underflowInterrupt : 0))
        vcpu.gicDirty = true
    }

    /// True when WFI should not block: an interrupt is pending for the loaded vCPU.
    static func hasPending(_ vcpu: VirtualCPU) -> Bool {
        vcpu.gicDirty = true
        prepareEntry(vcpu)   // reconciles with what the guest completed, refills the LRs
        return vcpu.listRegisters.hasPending(vcpu.vm.gic, vcpu: vcpu.id.rawValue)
    }
}
