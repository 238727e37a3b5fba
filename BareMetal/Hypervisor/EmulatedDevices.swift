import CArch
import SwiftvisorCore

/// Stage-2 data aborts: accesses to emulated devices are carried out through the device
/// registry (`EmulatedDevice.at`) and one `MMIOAccess` per access (width and sign rules);
/// anything else the guest may not touch becomes an injected external abort.
/// (Transparent, not `@inline(__always)`: the optimizer inlines an always-inline function of
/// more than 64 blocks only into a caller still under 64, which the exit path no longer is;
/// the call it left cost a PL011 read 66 instructions in `bench`.)
@_transparent
func handleDataAbort(_ abort: DataAbort, esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let vm = vcpu.vm
    guard let (device, offset) = EmulatedDevice.at(abort.ipa, layout: vm.layout, vcpus: vm.vcpus.count) else {
        if mappedSinceFault(vm, abort.ipa, faultStatus: abort.faultStatus) { return .resume }
        return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                      cause: "access outside its memory and devices", vcpu, hv)
    }
    // Not a plain access's translation fault (rare): out of line, off the device path.
    if abort.deviceHandling != .emulate { return handleUnusualDeviceFault(abort, esr: esr, vcpu, hv) }
    // ISV=0 (load/store pair, writeback, SIMD): no syndrome to emulate from (Arm ARM D19.2.40).
    guard abort.syndromeValid else {
        return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                      cause: "device access without a valid syndrome (ISV=0)", vcpu, hv)
    }
    let access = MMIOAccess(abort, offset: offset, registerValue: abort.isWrite ? vcpu.register(abort.register) : 0)
    let read: UInt64
    switch device {
    case .uart:
        let result = vm.uart.access(access)
        read = result.read
        if let byte = result.transmitted { vm.consoleOutput(byte) }
        // IMSC, ICR and reads of DR change the interrupt line; most accesses (FR polls, DR
        // writes) do not, and cost nothing more.
        if vm.uart.interruptLine != vm.uartLine { VirtualInterrupts.updateUARTLine(vm, hv) }
    case .gicDistributor:
        TimerLines.beforeGICAccess(vcpu, hv)
        let result = vm.gic.version == .v2 ? vm.gic.gicv2DistributorAccess(vcpu: vcpu.id.rawValue, access) : vm.gic.distributorAccess(access)
        read = result.read
        for v in result.effect.kick { VirtualInterrupts.kick(vm.vcpus[v], hv) }
    case .gicRedistributor where vm.gic.version == .v2:
        return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                      cause: "access outside its memory and devices", vcpu, hv)
    case .rtc:
        // A PL031 has word registers only (DDI 0224 3.2).
        guard access.width == 4 else {
            return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                          cause: "PL031 access not 32 bits wide", vcpu, hv)
        }
        read = RealTimeClock.access(access, vm, hv)
    case .gicRedistributor(let frame):
        TimerLines.beforeGICAccess(vcpu, hv)
        let result = vm.gic.redistributorAccess(frame: frame, access)
        read = result.read
        for v in result.effect.kick { VirtualInterrupts.kick(vm.vcpus[v], hv) }
    }
    if !access.isWrite { vcpu.setRegister(access.register, access.loadedValue(read)) }
    vcpu.skipInstruction(esr)
    return .resume
}

/// Cache maintenance by VA on a device is stepped over; a stage-1 walk into a device or a
/// fault other than translation is injected (KVM's kvm_handle_guest_abort, io_mem_abort).
@inline(never)
func handleUnusualDeviceFault(_ abort: DataAbort, esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    if abort.deviceHandling == .skipCacheMaintenance {
        vcpu.skipInstruction(esr)
        return .resume
    }
    return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                  cause: "device fault that is not a plain access's translation fault", vcpu, hv)
}
