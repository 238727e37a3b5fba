import CArch
import SwiftvisorCore

/// Stage-2 data aborts: accesses to emulated devices are carried out; anything else the guest
/// may not touch becomes an injected external abort.
func handleDataAbort(_ abort: DataAbort, esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let vm = vcpu.vm
    guard GuestMachine.uart.contains(abort.ipa) else {
        return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                      cause: "access outside its memory and devices", vcpu, hv)
    }
    // ISV=0 (load/store pair, writeback, SIMD): no syndrome to emulate from (Arm ARM D19.2.40).
    guard abort.syndromeValid else {
        return inject(.dataAbort(write: abort.isWrite), at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                      cause: "device access without a valid syndrome (ISV=0)", vcpu, hv)
    }
    let offset = abort.ipa.offset(from: GuestMachine.uart.base)
    let shift = (offset & 3) * 8
    if abort.isWrite {
        let value = UInt32(truncatingIfNeeded: abort.storedValue(vcpu.register(abort.register)) << shift)
        if let byte = vm.uart.write(offset: offset & ~3, value: value) { vm.consoleOutput(byte) }
    } else {
        let raw = UInt64(vm.uart.read(offset: offset & ~3)) >> shift
        vcpu.setRegister(abort.register, abort.loadedValue(raw))
    }
    vcpu.skipInstruction()
    return .resume
}
