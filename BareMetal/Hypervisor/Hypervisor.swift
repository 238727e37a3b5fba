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
    let timerINTID: UInt32
    let slice: UInt64
    let platform: HostPlatform

    init(platform: HostPlatform, interrupts: InterruptController, timerINTID: UInt32) {
        self.platform = platform
        self.interrupts = interrupts
        self.timerINTID = timerINTID
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
        stopVMsWithNoRunningVCPU()
        guard let slot = scheduler.next() else { allGuestsFinished() }
        let next = vcpus[slot]
        if next !== loaded { load(next) }
        current = next
        PreemptionTimer.arm(slice: slice)
        return next.frame
    }

    /// World switch (Arm ARM D1.2): EL1 system registers, FP/SIMD, stage-2 base and VMID.
    private func load(_ next: VirtualCPU) {
        if let previous = loaded {
            el1_context_save(previous.el1)
            fp_state_save(previous.fp)
        }
        el1_context_restore(next.el1)
        fp_state_restore(next.fp)
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

    private func stopVMsWithNoRunningVCPU() {
        for vm in vms where vm.state == .running {
            if !vm.vcpus.contains(where: { scheduler.states[$0.slot] == .runnable }) {
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
