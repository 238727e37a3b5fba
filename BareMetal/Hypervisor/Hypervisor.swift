import CArch
import SwiftvisorCore

/// Everything the hypervisor owns on this (single) physical CPU.
final class Hypervisor {
    var vms: [VirtualMachine] = []
    /// vCPUs indexed by scheduler slot.
    var vcpus: [VirtualCPU] = []
    var scheduler = RoundRobinScheduler()
    /// The vCPU whose EL1, FP and stage-2 state is loaded in this CPU's registers.
    var loaded: VirtualCPU?
    /// The vCPU now running (its frame is what the vectors save into).
    var current: VirtualCPU?
    let interrupts: InterruptController
    /// Physical INTIDs of the hypervisor's timer, the EL1 virtual timer and the GIC maintenance
    /// interrupt, from the host DTB.
    let timerINTID: UInt32
    let virtualTimerINTID: UInt32
    let maintenanceINTID: UInt32
    let slice: UInt64
    let platform: HostPlatform
    /// Counter value at which the running vCPU's time slice ends.
    var sliceEnd: UInt64 = 0
    /// A vCPU was woken from WFI while another ran: switch to it at the next opportunity.
    var wakeupPending = false

    init(platform: HostPlatform, interrupts: InterruptController, timerINTID: UInt32,
         virtualTimerINTID: UInt32, maintenanceINTID: UInt32) {
        self.platform = platform
        self.interrupts = interrupts
        self.timerINTID = timerINTID
        self.virtualTimerINTID = virtualTimerINTID
        self.maintenanceINTID = maintenanceINTID
        self.slice = PreemptionTimer.sliceTicks()
    }

    func add(_ vm: VirtualMachine) {
        vms.append(vm)
        for vcpu in vm.vcpus {
            vcpu.slot = scheduler.add(vcpu.id.rawValue == 0 ? .runnable : .off)
            vcpus.append(vcpu)
        }
    }

    /// Picks the next runnable vCPU, loads its state, starts its time slice, and returns the
    /// frame the vectors should resume. Powers the machine off when every guest is done.
    func scheduleNext() -> UnsafeMutablePointer<vcpu_frame> {
        while true {
            wakeupPending = false
            if let slot = scheduler.next() {
                let next = vcpus[slot]
                if next !== loaded { load(next) }
                current = next
                sliceEnd = read_cntpct_el0() &+ slice
                armTimer()
                VirtualInterrupts.prepareEntry(next)
                return next.frame
            }
            guard scheduler.hasBlocked else { allGuestsFinished() }
            idleUntilRunnable()
        }
    }

    /// Every vCPU waits for an interrupt: sleep in WFI until one becomes runnable (no busy
    /// wait of the physical CPU). PSTATE.I stays masked at EL2; WFI still wakes on a pending
    /// interrupt, which is then handled by polling ICC_IAR1_EL1.
    private func idleUntilRunnable() {
        current = nil
        sliceEnd = UInt64.max
        while !scheduler.hasRunnable {
            runSoftwareTimers()
            if scheduler.hasRunnable { break }
            armTimer()
            wait_for_interrupt()
            _ = handlePhysicalInterrupts()
        }
    }

    /// Handles every pending physical interrupt; true when the running vCPU's slice is over.
    func handlePhysicalInterrupts() -> Bool {
        var sliceOver = false
        while true {
            let intid = interrupts.acknowledge()
            if intid == InterruptController.spurious { break }
            // Each source below is silenced before its end of interrupt, so a level-sensitive
            // line is low again when the interrupt is deactivated.
            defer { interrupts.endOfInterrupt(intid) }
            if intid == timerINTID {
                write_cnthp_ctl_el2(0)   // disarmed until armTimer() runs again
                runSoftwareTimers()
                if read_cntpct_el0() >= sliceEnd { sliceOver = true }
            } else if intid == virtualTimerINTID, let v = loaded {
                // The loaded vCPU's CNTV fired: mask it and deliver the virtual PPI. As on Xen,
                // the guest sees CNTV_CTL.IMASK set and unmasks when it reprograms the timer,
                // as Linux's handler does (docs/architecture.md).
                write_cntv_ctl_el0(read_cntv_ctl_el0() | 0b10)
                VirtualInterrupts.raise(InterruptID.virtualTimer, vm: v.vm, vcpu: v.id.rawValue, self)
            } else if intid == maintenanceINTID, let v = loaded {
                // Underflow: LRs have room again. Clear UIE so the level drops; refill on entry.
                write_ich_hcr_el2(VirtualInterrupts.enable)
                v.underflowWanted = false
                v.gicDirty = true
            }
        }
        if wakeupPending { sliceOver = true }
        if !sliceOver, let c = current, scheduler.states[c.slot] == .runnable { armTimer() }
        return sliceOver
    }

    /// Fires the timers kept in software: virtual timers of vCPUs not loaded, and every
    /// vCPU's emulated physical timer.
    func runSoftwareTimers() {
        let now = read_cntpct_el0()
        for v in vcpus where v.vm.state == .running {
            if v !== loaded, let d = v.virtualTimerDeadline, now >= d {
                v.el1.pointee.cntv_ctl |= 0b10
                VirtualInterrupts.raise(InterruptID.virtualTimer, vm: v.vm, vcpu: v.id.rawValue, self)
            }
            if v.physicalTimer.fire(now: now) {   // CNTPCT: no offset
                VirtualInterrupts.raise(InterruptID.physicalTimer, vm: v.vm, vcpu: v.id.rawValue, self)
            }
        }
    }

    /// Programs CNTHP for the earliest of: the slice end, a software timer's deadline.
    func armTimer() {
        var deadline = sliceEnd
        for v in vcpus where v.vm.state == .running {
            if v !== loaded, let d = v.virtualTimerDeadline { deadline = min(deadline, d) }
            if let d = v.physicalTimer.deadline { deadline = min(deadline, d) }
        }
        if deadline == UInt64.max { write_cnthp_ctl_el2(0); return }
        PreemptionTimer.arm(at: deadline)
    }

    /// World switch (Arm ARM D1.2): EL1 system registers, FP/SIMD, stage-2 base and VMID.
    private func load(_ next: VirtualCPU) {
        if let previous = loaded {
            el1_context_save(previous.el1)
            fp_state_save(previous.fp)
            VirtualInterrupts.save(previous)
        }
        write_cntvoff_el2(next.vm.cntvoff)
        el1_context_restore(next.el1)
        fp_state_restore(next.fp)
        VirtualInterrupts.restore(next)
        write_vttbr_el2(next.vm.vttbr)
        isb()
        loaded = next
    }

    /// Ends a VM: its vCPUs never run again; the reason goes to the console for the host tool.
    func finish(_ vm: VirtualMachine) {
        vm.flushConsole()
        vm.state = .finished
        for vcpu in vm.vcpus { scheduler.setState(vcpu.slot, .finished) }
    }

    func shutDown(_ vm: VirtualMachine, reason: XenABI.ShutdownReason, exitCode: UInt32) {
        finish(vm)
        Console.log("guest '"); Console.write(vm.name); Console.write("' shut down: ")
        Console.write(reason.name); Console.write(" (exit code "); Console.decimal(UInt64(exitCode)); Console.write(")\n")
    }

    /// Stops a misbehaving guest with a message naming it, the cause, the exception class,
    /// the IPA and the PC.
    func stop(_ vcpu: VirtualCPU, cause: StaticString, esr: ESR, ipa: UInt64?) {
        finish(vcpu.vm)
        Console.log("guest '"); Console.write(vcpu.vm.name); Console.write("' stopped: "); Console.write(cause)
        Console.write(" (vCPU "); Console.decimal(UInt64(vcpu.id.rawValue))
        Console.write(", EC "); Console.hex(UInt64(esr.exceptionClass.code)); Console.write(" ")
        Console.write(esr.exceptionClass.name)
        Console.write(", ESR "); Console.hex(esr.rawValue)
        if let ipa { Console.write(", IPA "); Console.hex(ipa) }
        Console.write(", PC "); Console.hex(vcpu.frame.pointee.elr_el2); Console.write(")\n")
    }

    /// After PSCI CPU_OFF: a VM none of whose vCPUs is running or waiting has ended.
    func stopVMsWithNoRunningVCPU() {
        for vm in vms where vm.state == .running {
            if !vm.vcpus.contains(where: { scheduler.states[$0.slot] == .runnable || scheduler.states[$0.slot] == .blocked }) {
                finish(vm)
                Console.log("guest '"); Console.write(vm.name); Console.write("' stopped: every vCPU is off\n")
            }
        }
    }

    private func allGuestsFinished() -> Never {
        Console.log("all guests have finished\n")
        Firmware.systemOff(conduit: platform.psciConduit)
    }
}

/// The one hypervisor instance, set once at boot.
nonisolated(unsafe) var hypervisor: Hypervisor?

/// PSCI calls the hypervisor itself makes to the firmware (or QEMU's built-in PSCI).
enum Firmware {
    static func systemOff(conduit: HostPlatform.PSCIConduit?) -> Never {
        let fid = UInt64(SMCCCCall.FunctionID.systemOff.rawValue)
        if conduit == .hvc { _ = firmware_call_hvc(fid, 0, 0, 0) } else { _ = firmware_call_smc(fid, 0, 0, 0) }
        halt_forever()
    }
}
