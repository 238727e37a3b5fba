import CArch
import SwiftvisorCore

/// `hvc #imm`: Xen's ABI for #0xEA1, SMCCC/PSCI for #0.
@inline(__always)
func handleHypervisorCall(immediate: UInt16, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    if immediate == XenABI.hvcImmediate { return handleXenHypercall(vcpu, hv) }
    if immediate == 0 { return handleSMCCC(vcpu, hv) }
    vcpu.setRegister(0, SMCCCCall.Status.notSupported.returnValue)
    return .resume
}

/// Xen hypercall: number in x16, arguments in x0-x4, result in x0.
@inline(__always)
func handleXenHypercall(_ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    switch XenHypercall.decode(number: f.pointee.x.16, x0: f.pointee.x.0, x1: f.pointee.x.1, x2: f.pointee.x.2) {
    case .failure(let errno):
        f.pointee.x.0 = errno.returnValue
        return .resume
    case .success(let call):
        return perform(call, vcpu, hv)
    }
}

func perform(_ call: XenHypercall, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    switch call {
    case .version:
        f.pointee.x.0 = XenABI.version
    case .pageSize:
        f.pointee.x.0 = PageSize.granule
    case .versionReply(let command, let buffer):
        // A domain handle of zeros, as Xen gives a domain created without one (dom0less domUs).
        let handle = [UInt8](repeating: 0, count: 16)
        guard let bytes = XenVersion.reply(to: command, handle: handle) else { break }
        f.pointee.x.0 = GuestMemory.write(buffer, bytes: bytes, vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
    case .features(let buffer):
        // Xen reads the whole xen_feature_info_t first, then writes it back with submap filled in.
        guard let index = GuestMemory.read32(buffer, vcpu: vcpu), GuestMemory.read32(buffer &+ 4, vcpu: vcpu) != nil else {
            f.pointee.x.0 = XenABI.Errno.efault.returnValue
            break
        }
        switch XenVersion.features(submapIndex: index) {
        case .failure(let errno): f.pointee.x.0 = errno.returnValue
        case .success(let submap):
            let bytes = (0..<4).map { UInt8(truncatingIfNeeded: submap >> (8 * UInt32($0))) }
            f.pointee.x.0 = GuestMemory.write(buffer &+ 4, bytes: bytes, vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
        }
    case .consoleWrite(let buffer, let length):
        // Checked in full before any byte is shown, so a bad buffer prints nothing.
        let vm = vcpu.vm
        // LF becomes CR LF, as Xen's serial console writes a guest's console_io text.
        let ok = GuestMemory.read(buffer, length: length, vcpu: vcpu) {
            if $0 == UInt8(ascii: "\n") { vm.consoleOutput(UInt8(ascii: "\r")) }
            vm.consoleOutput($0)
        }
        f.pointee.x.0 = ok ? 0 : XenABI.Errno.efault.returnValue
    case .consoleRead:
        f.pointee.x.0 = 0   // no console input yet
    case .yield, .block:
        f.pointee.x.0 = 0
        return .reschedule
    case .shutdown(let argument, let withExitCode):
        guard let rawReason = GuestMemory.read32(argument, vcpu: vcpu) else {
            f.pointee.x.0 = XenABI.Errno.efault.returnValue
            return .resume
        }
        var exitCode: UInt32 = 0
        if withExitCode {
            guard let code = GuestMemory.read32(argument &+ 4, vcpu: vcpu) else {
                f.pointee.x.0 = XenABI.Errno.efault.returnValue
                return .resume
            }
            exitCode = code
        }
        guard let reason = XenABI.ShutdownReason(rawValue: rawReason) else {
            f.pointee.x.0 = XenABI.Errno.einval.returnValue
            return .resume
        }
        if reason == .reboot { hv.reboot(vcpu.vm) } else { hv.shutDown(vcpu.vm, reason: reason, exitCode: exitCode) }
        return .reschedule
    }
    return .resume
}

/// SMCCC and PSCI: function ID in x0, arguments in x1-x3, result in x0.
func handleSMCCC(_ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    let call = SMCCCCall(x0: f.pointee.x.0, x1: f.pointee.x.1, x2: f.pointee.x.2, x3: f.pointee.x.3)
    var result: UInt64
    switch call {
    case .smcccVersion: result = SMCCCCall.implementedSMCCCVersion
    case .smcccArchFeatures(let fid): result = SMCCCCall.archFeatures(of: fid)
    case .psciVersion: result = SMCCCCall.implementedPSCIVersion
    case .psciFeatures(let fid): result = SMCCCCall.psciFeatures(of: fid)
    case .migrateInfoType: result = 2   // Trusted OS not present or does not need migration
    case .notSupported: result = SMCCCCall.Status.notSupported.returnValue
    case .cpuOn(let target, let entry, let context):
        result = cpuOn(target: target, entry: entry, context: context, vcpu.vm, hv).returnValue
    case .affinityInfo(let target, let level):
        if level != 0 { result = SMCCCCall.Status.invalidParameters.returnValue; break }
        guard let t = vcpu.vm.vcpus.first(where: { $0.mpidr & 0xFF_FFFF == target & 0xFF_FFFF }) else {
            result = SMCCCCall.Status.invalidParameters.returnValue; break
        }
        let state = hv.scheduler.states[t.slot]
        result = state == .runnable || state == .blocked ? 0 : 1   // ON (running or in WFI) : OFF
    case .cpuOff:
        hv.scheduler.setState(vcpu.slot, .off)
        hv.stopVMsWithNoRunningVCPU()
        return .reschedule
    case .systemOff:
        hv.shutDown(vcpu.vm, reason: .poweroff, exitCode: 0)
        return .reschedule
    case .systemReset:
        hv.reboot(vcpu.vm)
        return .reschedule
    }
    f.pointee.x.0 = result
    return .resume
}

/// PSCI CPU_ON (DEN0022 5.6): start a powered-off vCPU of the same VM at `entry` (an IPA,
/// since the new CPU's MMU is off) with x0 = context.
func cpuOn(target: UInt64, entry: UInt64, context: UInt64, _ vm: VirtualMachine, _ hv: Hypervisor) -> SMCCCCall.Status {
    guard let t = vm.vcpus.first(where: { $0.mpidr & 0xFF_FFFF == target & 0xFF_FFFF }) else { return .invalidParameters }
    guard hv.scheduler.states[t.slot] == .off else { return .alreadyOn }
    guard vm.ram.contains(GuestPhysicalAddress(entry)) else { return .invalidAddress }
    t.reset(entry: entry, x0: context)
    hv.scheduler.setState(t.slot, .runnable)
    return .success
}
