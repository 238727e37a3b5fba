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
        f.pointee.x.0 = versionReply(command, buffer: buffer, vcpu)
    case .features(let buffer):
        f.pointee.x.0 = features(buffer: buffer, vcpu)
    case .consoleWrite(let buffer, let length):
        consoleWrite(buffer: buffer, length: length, vcpu)
    case .consoleRead:
        f.pointee.x.0 = 0   // no console input yet
    case .yield:
        f.pointee.x.0 = 0
        hv.scheduler.yield(core: hv.thisCore.index)
        return .reschedule
    case .block:
        return block(vcpu, hv)
    case .poll(let argument):
        return poll(argument: argument, vcpu, hv)
    case .shutdownCode(let argument):
        f.pointee.x.0 = shutdownCode(argument: argument, vcpu)
    case .eventChannel(let command, let argument):
        f.pointee.x.0 = eventChannelOp(command, argument: argument, vcpu, hv)
    case .vcpu(let command, let id, let argument):
        f.pointee.x.0 = vcpuOp(command: command, vcpu: id, argument: argument, vcpu, hv)
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
        guard var reason = XenABI.ShutdownReason(rawValue: rawReason) else {
            f.pointee.x.0 = XenABI.Errno.einval.returnValue
            return .resume
        }
        reason = XenGuest.shutdownReason(vcpu.vm, reason)
        if reason == .reboot { hv.reboot(vcpu.vm) } else { hv.shutDown(vcpu.vm, reason: reason, exitCode: exitCode) }
        return .reschedule
    case .vmAssist(let command):
        vcpu.vm.xen.runstateUpdateFlag = command == .enable   // only runstate_update_flag gets here
        f.pointee.x.0 = 0
    case .hvmGuestRequest:
        f.pointee.x.0 = 0
    case .hvmParam(let set, let argument):
        f.pointee.x.0 = hvmParam(set: set, argument: argument, vcpu)
    case .multicall(let list, let count):
        return multicall(list: list, count: count, vcpu, hv)
    case .memoryOp(let command, let argument):
        return memoryOp(command: command, argument: argument, vcpu, hv)
    case .grantTableOp(let call, let argument):
        return grantTableOp(call, argument: argument, vcpu, hv)
    }
    return .resume
}

// The rarer calls below stay out of line, so that `perform` (on every sched_op yield) keeps
// its small frame.

/// XENVER_* sub-ops that copy a structure to the guest buffer; -EFAULT if it cannot be written.
@inline(never)
func versionReply(_ command: XenABI.VersionCommand, buffer: UInt64, _ vcpu: VirtualCPU) -> UInt64 {
    guard let bytes = XenVersion.reply(to: command, handle: vcpu.vm.manifest.uuid) else { return XenABI.Errno.enosys.returnValue }
    return GuestMemory.write(buffer, bytes: bytes, vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
}

/// XENVER_get_features: Xen reads the whole xen_feature_info_t first, then writes it back with submap filled in.
@inline(never)
func features(buffer: UInt64, _ vcpu: VirtualCPU) -> UInt64 {
    guard let index = GuestMemory.read32(buffer, vcpu: vcpu), GuestMemory.read32(buffer &+ 4, vcpu: vcpu) != nil else {
        return XenABI.Errno.efault.returnValue
    }
    switch XenVersion.features(submapIndex: index) {
    case .failure(let errno): return errno.returnValue
    case .success(let submap):
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: submap >> (8 * UInt32($0))) }
        return GuestMemory.write(buffer &+ 4, bytes: bytes, vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
    }
}

/// HVMOP_get_param / HVMOP_set_param: Xen reads the whole `struct xen_hvm_param` first
/// (-EFAULT if it cannot), and a get writes it back with `value` filled in.
@inline(never)
func hvmParam(set: Bool, argument: UInt64, _ vcpu: VirtualCPU) -> UInt64 {
    var raw = [UInt8]()
    guard GuestMemory.read(argument, length: XenHVMParam.size, vcpu: vcpu, { raw.append($0) }) else {
        return XenABI.Errno.efault.returnValue
    }
    var request = XenHVMParam.Request(bytes: raw)
    if set { return XenHVMParam.set(request).returnValue }
    switch XenHVMParam.get(request, values: vcpu.vm.xen.hvmParams) {
    case .failure(let errno): return errno.returnValue
    case .success(let value):
        request.value = value
        let pad = UInt16(raw[2]) | UInt16(raw[3]) << 8
        return GuestMemory.write(argument, bytes: request.bytes(pad: pad), vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
    }
}

/// multicall: each entry's hypercall runs with its op in x16 and args in x0-x5, its x0 written
/// to the entry's `result`. After `XenMulticall.entriesPerExit` entries, or a sub-call that
/// gives up the CPU, the rest continue as Xen's continuation does: x0/x1 advanced to the
/// remaining list and the HVC executed again. The multicall itself returns 0, or -EFAULT
/// when an entry cannot be read or its result written (the entries before it have run).
@inline(never)
func multicall(list: UInt64, count: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    let saved = (f.pointee.x.1, f.pointee.x.2, f.pointee.x.3, f.pointee.x.4, f.pointee.x.5)
    func restore(x0: UInt64) {
        f.pointee.x.0 = x0
        (f.pointee.x.1, f.pointee.x.2, f.pointee.x.3, f.pointee.x.4, f.pointee.x.5) = saved
        f.pointee.x.16 = XenABI.Number.multicall.rawValue
    }
    var i: UInt64 = 0
    while i < count {
        guard let at = XenMulticall.entryAddress(list: list, index: i) else { restore(x0: XenABI.Errno.efault.returnValue); return .resume }
        var raw = [UInt8]()
        guard GuestMemory.read(at, length: XenMulticall.entrySize, vcpu: vcpu, { raw.append($0) }) else {
            restore(x0: XenABI.Errno.efault.returnValue)
            return .resume
        }
        let entry = XenMulticall.Entry(bytes: raw)
        var outcome = ExitOutcome.resume
        var result: UInt64
        switch XenMulticall.subcall(entry) {
        case .failure(let errno): result = errno.returnValue
        case .success(let call):
            f.pointee.x.16 = entry.op
            (f.pointee.x.0, f.pointee.x.1, f.pointee.x.2, f.pointee.x.3, f.pointee.x.4, f.pointee.x.5) = entry.args
            insideMulticall = true
            outcome = perform(call, vcpu, hv)
            insideMulticall = false
            result = f.pointee.x.0
        }
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: result >> (8 * UInt64($0))) }
        guard GuestMemory.write(at &+ XenMulticall.resultOffset, bytes: bytes, vcpu: vcpu) else {
            restore(x0: XenABI.Errno.efault.returnValue)
            return .resume
        }
        i += 1
        if i < count, outcome == .reschedule || i % XenMulticall.entriesPerExit == 0 {
            // Continuation: the HVC runs again on the entries left (ELR_EL2 points past it).
            restore(x0: at &+ XenMulticall.entrySize)
            f.pointee.x.1 = count - i
            f.pointee.elr_el2 &-= 4
            return .reschedule
        }
        if outcome == .reschedule { restore(x0: 0); return .reschedule }
    }
    restore(x0: 0)
    return .resume
}

/// SMCCC and PSCI: function ID in x0, arguments in x1-x3, result in x0.
func handleSMCCC(_ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    let call = SMCCCCall(x0: f.pointee.x.0, x1: f.pointee.x.1, x2: f.pointee.x.2, x3: f.pointee.x.3)
    var result: UInt64
    switch call {
    case .smcccVersion: result = SMCCCCall.implementedSMCCCVersion
    case .smcccArchFeatures(let fid):
        result = SMCCCCall.archFeatures(of: fid) ?? BranchPredictorHardening.mitigations.archFeatures(of: fid) ?? SMCCCCall.Status.notSupported.returnValue
    case .archWorkaround1, .archWorkaround3:
        // No result is defined (DEN0028 7.5.3); x0 = 0 as KVM's hyp vector leaves it.
        BranchPredictorHardening.invalidate()
        result = SMCCCCall.Status.success.returnValue
    case .archWorkaround2: result = SMCCCCall.Status.notSupported.returnValue
    case .cpuSuspend:
        // Every power state is entered as a standby that returns SUCCESS (DEN0022 5.4.2 lets a
        // powerdown request return so; KVM does the same): the vCPU sleeps as in WFI until an
        // interrupt is pending, even one PSTATE masks.
        f.pointee.x.0 = SMCCCCall.Status.success.returnValue
        if VirtualInterrupts.hasPending(vcpu) { return .resume }
        vcpu.vm.showUnfinishedLine()
        hv.scheduler.setState(vcpu.slot, .blocked)
        return .reschedule
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
    case .systemOff, .systemReset:
        // As Xen's domain_shutdown: a code set with SCHEDOP_shutdown_code wins.
        let reason = XenGuest.shutdownReason(vcpu.vm, call == .systemOff ? .poweroff : .reboot)
        if reason == .reboot { hv.reboot(vcpu.vm) } else { hv.shutDown(vcpu.vm, reason: reason, exitCode: 0) }
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
    // An idle core takes it at once (not at its next tick).
    hv.kick(for: t, woken: true)
    return .success
}
