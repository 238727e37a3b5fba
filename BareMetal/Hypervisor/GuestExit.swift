import CArch
import SwiftvisorCore

/// What a trap handler decided.
enum ExitOutcome {
    /// Return to the same vCPU.
    case resume
    /// Let the scheduler choose (yield, time slice over, vCPU off, VM finished).
    case reschedule
}

/// Kinds passed by vectors.S.
enum ExitKind: UInt64 { case synchronous = 0, irq = 1, fiq = 2, serror = 3 }

/// Every exit from a guest arrives here from vectors.S with the vCPU's registers saved in
/// `frame`; the frame returned is the one resumed.
@_cdecl("swiftvisor_guest_exit")
func swiftvisorGuestExit(_ frame: UnsafeMutablePointer<vcpu_frame>, _ kind: UInt64) -> UnsafeMutablePointer<vcpu_frame> {
    // Fast path: an HVC that reads no shared state is answered from the saved registers,
    // without the lock. (An interrupt raised meanwhile for this vCPU by another core comes
    // with a physical SGI, taken as soon as the guest resumes.)
    if kind == ExitKind.synchronous.rawValue {
        let esr = ESR(rawValue: read_esr_el2())
        if esr.exceptionClassCode == ExceptionClass.Code.hvc64,
           let result = StatelessHypercall.answer(immediate: UInt16(truncatingIfNeeded: esr.iss), x16: frame.pointee.x.16,
                                                  x0: frame.pointee.x.0, x1: frame.pointee.x.1) {
            frame.pointee.x.0 = result
            return frame
        }
        // The rest of a set/way sweep: nothing to do, no lock needed (SetWay.swift).
        if esr.exceptionClassCode == ExceptionClass.Code.systemRegister64, SetWay.skipWithoutLock(esr, frame) { return frame }
    }
    hypervisor_lock()
    // SAFETY: exits only happen after boot has set both; the running vCPU is the loaded one.
    // Guaranteed references (no retain/release on the exit path): the hypervisor, its cores
    // and vCPUs are never freed.
    let next = hypervisorRef.unsafelyUnwrapped._withUnsafeGuaranteedRef { hv in
        hv.coreRefs[Int(this_core().pointee.core)]._withUnsafeGuaranteedRef { core in
            core.loadedRef.unsafelyUnwrapped._withUnsafeGuaranteedRef { vcpu in
                handleExit(frame, kind, vcpu, core, hv)
            }
        }
    }
    hypervisor_unlock()
    // Console output goes to the UART outside the lock (ConsoleOutput): this core's bytes.
    // SAFETY: TPIDR_EL2 holds this core's context from its boot on (an exit comes later).
    if this_core().unsafelyUnwrapped.pointee.console_waiting != 0 { ConsoleOutput.afterExit() }
    return next
}

/// An exit other than the lock-free hypercalls, with the lock held.
@inline(__always)
func handleExit(_ frame: UnsafeMutablePointer<vcpu_frame>, _ kind: UInt64,
                _ vcpu: VirtualCPU, _ core: PhysicalCPU, _ hv: Hypervisor) -> UnsafeMutablePointer<vcpu_frame> {
    // Another core ended (or is rebooting) this vCPU's VM while we waited for the lock: nothing
    // of it is handled (a late trap must not change its state); take the interrupts, move on.
    if vcpu.vm.state != .running {
        if ExitKind(rawValue: kind) == .irq { _ = hv.handlePhysicalInterrupts(core) }
        return hv.scheduleNext(core)
    }
    let outcome: ExitOutcome
    // On the raw kind: `ExitKind(rawValue:)` is a call under -Osize.
    switch kind {
    case ExitKind.synchronous.rawValue:
        outcome = handleSynchronous(vcpu, hv)
    case ExitKind.irq.rawValue:
        outcome = hv.handlePhysicalInterrupts(core) ? .reschedule : .resume
    default:   // FIQ, SError
        hv.stop(vcpu, cause: kind == ExitKind.serror.rawValue ? "SError" : "unexpected FIQ",
                esr: ESR(rawValue: read_esr_el2()), ipa: nil)
        outcome = .reschedule
    }
    switch outcome {
    case .resume:
        VirtualInterrupts.prepareEntry(vcpu)
        return frame
    case .reschedule:
        return hv.scheduleNext(core)
    }
}

@inline(__always)
func handleSynchronous(_ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let esr = ESR(rawValue: read_esr_el2())
    switch Trap(esr: esr, far: read_far_el2(), hpfar: read_hpfar_el2()) {
    case .hypervisorCall(let immediate):
        // ELR_EL2 already points past an HVC.
        return handleHypervisorCall(immediate: immediate, vcpu, hv)
    case .secureMonitorCall(let immediate):
        // A trapped SMC leaves ELR_EL2 at the SMC itself (Arm ARM D1.10.3).
        vcpu.skipInstruction()
        if immediate == 0 { return handleSMCCC(vcpu, hv) }
        vcpu.setRegister(0, SMCCCCall.Status.notSupported.returnValue)
        return .resume
    case .waitForInterrupt:
        // WFI completes at once if an interrupt is pending (even one PSTATE masks);
        // otherwise the vCPU sleeps until one is (Arm ARM D1.6.2).
        vcpu.skipInstruction(esr)
        if VirtualInterrupts.hasPending(vcpu) { return .resume }
        // QEMU (10.0 too) traps a WFIT with a WFI's syndrome (TI = 0b00, not 0b10): where
        // FEAT_WFxT is, the instruction says which it was.
        if Processor.hasWFxT, let timeout = wfitTimeout(at: vcpu.frame.pointee.elr_el2 &- 4, vcpu) {
            return sleepUntilTimeout(timeout, vcpu, hv)
        }
        vcpu.vm.showUnfinishedLine()
        hv.scheduler.block(vcpu.slot, now: read_cntpct_el0())
        return .reschedule
    case .waitForInterruptWithTimeout(let rt):
        // Timeout register unknown (ESR.RV = 0): read from the instruction.
        guard let rt else { return waitWithTimeoutFromInstruction(esr: esr, vcpu, hv) }
        return waitWithTimeout(until: vcpu.register(rt), esr: esr, vcpu, hv)
    case .waitForEvent:
        // Events are not virtualised: a WFE lets the other vCPUs run (a spinlock's waiter
        // gives way to the lock's holder).
        vcpu.skipInstruction(esr)
        hv.scheduler.yield(core: hv.thisCore.index)
        return .reschedule
    case .dataAbort(let abort):
        return handleDataAbort(abort, esr: esr, vcpu, hv)
    case .instructionAbort(let abort):
        if mappedSinceFault(vcpu.vm, abort.ipa, faultStatus: abort.faultStatus) { return .resume }
        return inject(.instructionAbort, at: abort.virtualAddress, ipa: abort.ipa.rawValue, esr: esr,
                      cause: "instruction fetch outside its memory", vcpu, hv)
    case .systemRegister(let access):
        return handleSystemRegister(access, esr: esr, vcpu, hv)
    case .unhandled:
        return inject(.undefinedInstruction, at: 0, ipa: nil, esr: esr, cause: "unhandled trap", vcpu, hv)
    }
}

/// Injects an exception and logs it; stops the guest if it cannot take it.
func inject(_ kind: ExceptionInjection.Kind, at address: UInt64, ipa: UInt64?, esr: ESR,
            cause: StaticString, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let vm = vcpu.vm
    let pc = vcpu.frame.pointee.elr_el2
    guard ExceptionInjection.inject(kind, faultAddress: address, into: vcpu) else {
        hv.stop(vcpu, cause: cause, esr: esr, ipa: ipa)
        return .reschedule
    }
    vm.injections += 1
    if vm.injections <= VirtualMachine.loggedInjections {
        Console.logGuest(vm.name, "': "); Console.write(cause)
        Console.write(" (EC "); Console.hex(UInt64(esr.exceptionClass.code))
        if esr.exceptionClass == .systemRegister64 {
            // op0, op1, CRn, CRm, op2 as in the S<op0>_<op1>_C<n>_C<m>_<op2> register name.
            let a = SystemRegisterAccess(esr: esr)
            Console.write(a.isRead ? ", MRS S" : ", MSR S"); Console.decimal(UInt64(a.op0)); Console.write("_")
            Console.decimal(UInt64(a.op1)); Console.write("_C"); Console.decimal(UInt64(a.crn)); Console.write("_C")
            Console.decimal(UInt64(a.crm)); Console.write("_"); Console.decimal(UInt64(a.op2))
        }
        if let ipa { Console.write(", IPA "); Console.hex(ipa) }
        Console.write(", PC "); Console.hex(pc); Console.write("): exception injected")
        if vm.injections == VirtualMachine.loggedInjections { Console.write("; further ones are not reported") }
        Console.write("\n")
    }
    return .resume
}

/// Trapped system registers and instructions, as `SystemRegisterAction` classifies them.
func handleSystemRegister(_ access: SystemRegisterAccess, esr: ESR, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let rt = access.register
    switch SystemRegisterAction(access) {
    case .generateSGI:
        let request = SGIRequest(vcpu.register(rt))
        let vm = vcpu.vm
        var targets = request.targetMask(sender: vcpu.id.rawValue, vcpuCount: vm.vcpus.count)
        while targets != 0 {
            VirtualInterrupts.raise(request.intid, vm: vm, vcpu: targets.trailingZeroBitCount, hv)
            targets &= targets &- 1
        }
        vcpu.skipInstruction()
        // A vCPU woken by the IPI runs now (the sender goes on after it).
        return hv.thisCore.wakeupPending ? .reschedule : .resume
    case .physicalTimer(let timerRegister):
        let now = read_cntpct_el0()
        if access.isRead {
            vcpu.setRegister(rt, vcpu.physicalTimer.read(timerRegister, now: now))
        } else {
            vcpu.physicalTimer.write(timerRegister, vcpu.register(rt), now: now)
            TimerLines.physicalTimerWritten(vcpu, now: now, hv)
            hv.runSoftwareTimers()
            hv.armTimer(hv.thisCore)
        }
    case .idRegister(let crm, let op2):
        vcpu.setRegister(rt, IDRegisters.sanitize(crm: crm, op2: op2, read_id_register(UInt32(crm), UInt32(op2))))
    case .debugControl:
        SelfHostedDebug.debugControl(isRead: access.isRead, rt, vcpu)
    case .osLockStatus:
        vcpu.setRegister(rt, 1 << 3 | (vcpu.osLock ? 1 << 1 : 0))   // OSLM = 0b10, OSLK
    case .osLockAccess:
        SelfHostedDebug.setOSLock(vcpu.register(rt) & 1 != 0, vcpu, on: hv.thisCore)
    case .debugRegister(let register):
        if !SelfHostedDebug.access(register, isRead: access.isRead, rt, vcpu, on: hv.thisCore) {
            return inject(.undefinedInstruction, at: 0, ipa: nil, esr: esr, cause: "debug register not implemented", vcpu, hv)
        }
    case .pmu(let register):
        if !SelfHostedPMU.access(register, isRead: access.isRead, rt, vcpu, hv) {
            return inject(.undefinedInstruction, at: 0, ipa: nil, esr: esr, cause: "PMU counter not implemented", vcpu, hv)
        }
    case .readAsZeroWriteIgnored:
        if access.isRead { vcpu.setRegister(rt, 0) }
    case .cacheSetWay:
        // Cleans by VA on the transitions that need it, without the lock (SetWay.swift).
        return SetWay.operation(vcpu, hv)
    case .virtualMemoryControl(let register):
        return SetWay.controlWrite(register, vcpu.register(rt), vcpu, hv)
    case .undefined:
        return inject(.undefinedInstruction, at: 0, ipa: nil, esr: esr, cause: "system register access not virtualised", vcpu, hv)
    }
    vcpu.skipInstruction()
    return .resume
}
