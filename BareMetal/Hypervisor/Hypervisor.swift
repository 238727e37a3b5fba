import CArch
import SwiftvisorCore

/// Everything the hypervisor owns. All of it is shared by the physical cores and guarded by
/// the hypervisor lock (`hypervisor_lock`), taken on every exit and released before ERET.
final class Hypervisor {
    var vms: [VirtualMachine] = []
    /// vCPUs indexed by scheduler slot.
    var vcpus: [VirtualCPU] = []
    /// `vcpus` without reference counting, for the switch path (as `coreRefs`).
    let vcpuRefs = UnsafeMutablePointer<Unmanaged<VirtualCPU>>.allocate(capacity: Limits.guests * Limits.vcpusPerGuest)
    let scheduler: CreditScheduler
    var cores: [PhysicalCPU] = [] {
        didSet { for (i, c) in cores.enumerated() { coreRefs[i] = Unmanaged.passUnretained(c) } }
    }
    /// `cores` without reference counting, for the exit path (the array keeps them alive; a
    /// plain buffer, so reading it retains no array storage either).
    let coreRefs = UnsafeMutablePointer<Unmanaged<PhysicalCPU>>.allocate(capacity: Limits.cores)
    /// Physical INTIDs of the hypervisor's timer, the EL1 virtual timer and the GIC maintenance
    /// interrupt, from the host DTB.
    let timerINTID: UInt32
    let virtualTimerINTID: UInt32
    let maintenanceINTID: UInt32
    let platform: HostPlatform
    /// INTID of the physical console UART's interrupt, and where its input goes.
    var uartINTID: UInt32?
    var consoleRouter = ConsoleRouter(guestCount: 0)
    /// VMs in `.rebooting` (so the scheduler need not look for them on every switch).
    var rebootsPending = 0
    /// VMs asked to shut down by the console, with a deadline (`shutdownDeadline`).
    var shutdownsPending = 0
    /// The VM each physical SPI (INTID 32 + n) is passed through to.
    var spiOwners: [VirtualMachine?] = Array(repeating: nil, count: VirtualGIC.defaultSPICount)
    /// Host memory not yet handed out: stage-2 tables and grant frames come from it at run time.
    var allocator: UnsafeMutablePointer<PhysicalRangeAllocator>?
    /// PV devices between guests (the system description's `vif`/`disk` with `backend=`).
    var devices: [XenDevice] = []

    init(platform: HostPlatform, cores: Int, timerINTID: UInt32, virtualTimerINTID: UInt32, maintenanceINTID: UInt32) {
        self.platform = platform
        // Cap budgets are per 10 ms, as credit2's CSCHED2_BDGT_REPL_PERIOD.
        self.scheduler = CreditScheduler(cores: cores, slice: PreemptionTimer.sliceTicks(), period: read_cntfrq_el0() / 100)
        self.timerINTID = timerINTID
        self.virtualTimerINTID = virtualTimerINTID
        self.maintenanceINTID = maintenanceINTID
    }

    func add(_ vm: VirtualMachine, affinity: UInt64, weight: UInt32, cap: UInt32, interrupts: [UInt32]) {
        vms.append(vm)
        // Passed-through SPIs go to the boot core; the owner's vGIC routes them on from there.
        for intid in interrupts {
            spiOwners[Int(intid) - 32] = vm
            vm.gic.markPassthrough(intid)
            cores[0].interrupts.configureSPI(intid)
        }
        for vcpu in vm.vcpus {
            let state: VCPUState = vm.state == .finished ? .finished : vcpu.id.rawValue == 0 ? .runnable : .off
            vcpu.slot = scheduler.add(state, affinity: affinity, group: vm.index, weight: weight, cap: cap)
            vcpuRefs[vcpus.count] = Unmanaged.passUnretained(vcpu)
            vcpus.append(vcpu)
        }
    }

    /// The VM with Xen domain ID `domid`, whatever its state (callers check that it runs).
    func vm(_ domid: XenDomainID) -> VirtualMachine? {
        // By manifest index, not position: a guest that failed to build is not in `vms`.
        for vm in vms where vm.index == domid.guestIndex { return vm }
        return nil
    }

    /// The PPIs and SGIs every core enables: its timers, maintenance, and the reschedule SGI.
    var physicalInterrupts: [UInt32] { [timerINTID, virtualTimerINTID, maintenanceINTID, PhysicalCPU.rescheduleSGI] + (SelfHostedPMU.physicalINTID.map { [$0] } ?? []) }

    /// The core executing this code.
    @inline(__always) var thisCore: PhysicalCPU { cores[Int(this_core().pointee.core)] }

    /// The vCPU running on `core`.
    @inline(__always) func running(on core: PhysicalCPU) -> VirtualCPU? {
        guard let slot = scheduler.lastOnCore[core.index], scheduler.runningOn[slot] == core.index else { return nil }
        return vcpus[slot]
    }

    /// Picks the next vCPU for `core`, loads its state, starts its time slice, and returns the
    /// frame the vectors should resume. Sleeps while there is nothing to run; powers the
    /// machine off when every guest is done.
    func scheduleNext(_ core: PhysicalCPU) -> UnsafeMutablePointer<vcpu_frame> {
        chargeCPUTime(core)
        while true {
            core.wakeupPending = false
            if rebootsPending > 0 {
                if let current = running(on: core), current.vm.state != .running { scheduler.stopRunning(core: core.index) }
                unloadIfNotRunnable(core)
                _ = completeReboots(on: core, idle: false)
            }
            let now = read_cntpct_el0()
            if let slot = scheduler.next(core: core.index, now: now) {
                // SAFETY: `vcpus` owns every vCPU for the hypervisor's lifetime.
                return vcpuRefs[slot]._withUnsafeGuaranteedRef { next in
                    if !core.hasLoaded(next) { load(next, on: core) }
                    core.sliceEnd = scheduler.sliceEnd(core: core.index)
                    core.startAccounting(next, since: now)
                    armTimer(core)
                    VirtualInterrupts.prepareEntry(next)
                    return next.frame
                }
            }
            guard scheduler.hasLive || rebootsPending > 0 else { allGuestsFinished() }
            idleUntilRunnable(core)
        }
    }

    /// Nothing this core may run: save what it holds (so the vCPU can run elsewhere, and its
    /// timer becomes a software timer), then sleep in WFI with the lock released until there
    /// is work. PSTATE.I stays masked at EL2; WFI still wakes on a pending interrupt, which is
    /// then handled by polling ICC_IAR1_EL1.
    private func idleUntilRunnable(_ core: PhysicalCPU) {
        scheduler.stopRunning(core: core.index)
        unload(core)
        core.sliceEnd = UInt64.max
        core.idle = true
        defer { core.idle = false }
        while !scheduler.hasRunnable || !canRunSomething(core) {
            let rebooting = rebootsPending > 0
            guard scheduler.hasLive || rebooting else { return }
            // A rebooting VM's RAM still to zero: this core works on it instead of sleeping.
            var preparing = false
            if rebooting { preparing = completeReboots(on: core, idle: true); if canRunSomething(core) { break } }
            runSoftwareTimers()
            if canRunSomething(core) { break }
            armTimer(core)
            if !preparing {
                hypervisor_unlock()
                // Console output waiting: send some instead of sleeping, then look for work.
                if !ConsoleOutput.idleTurn() { wait_for_interrupt() }
                hypervisor_lock()
            }
            _ = handlePhysicalInterrupts(core)
        }
    }

    private func canRunSomething(_ core: PhysicalCPU) -> Bool { scheduler.canRun(core: core.index, now: read_cntpct_el0()) }

    /// Adds the time since the running vCPU was picked to its guest's CPU time (`list`) and
    /// charges it to the vCPU's virtual runtime and its guest's cap.
    private func chargeCPUTime(_ core: PhysicalCPU) {
        chargeRunning(core)
        core.accounting = nil
    }

    /// Charges the vCPU running on `core` up to now (it goes on running).
    private func chargeRunning(_ core: PhysicalCPU) {
        guard let ref = core.accountingRef else { return }
        let now = read_cntpct_el0()
        let ticks = now &- core.accountingSince
        // SAFETY: vCPUs are owned by `vcpus` for the hypervisor's lifetime.
        ref._withUnsafeGuaranteedRef { v in
            v.vm.cpuTicks &+= ticks
            scheduler.charge(v.slot, ticks: ticks, now: now)
        }
        core.accountingSince = now
    }

    /// Handles every pending physical interrupt on `core`; true when the running vCPU should
    /// give way (slice over, or a woken vCPU waits).
    func handlePhysicalInterrupts(_ core: PhysicalCPU) -> Bool {
        var sliceOver = false
        while true {
            let acknowledged = core.interrupts.acknowledge()
            let intid = acknowledged.intid
            if intid == InterruptController.spurious { break }
            // Each source below is silenced before its end of interrupt, so a level-sensitive
            // line is low again when the interrupt is deactivated (the virtual timer's is left
            // active instead, after its end of interrupt: TimerLines).
            var completed = false
            defer { if !completed { core.interrupts.endOfInterrupt(acknowledged) } }
            if intid == timerINTID {
                PreemptionTimer.disarm()   // until armTimer() runs again
                runSoftwareTimers()
                if read_cntpct_el0() >= core.sliceEnd { sliceOver = true }
            } else if intid == virtualTimerINTID, let v = core.loaded {
                // The loaded vCPU's CNTV fired: its line rises; the physical PPI stays active
                // until the guest deactivates the linked virtual one (TimerLines).
                core.interrupts.endOfInterrupt(acknowledged)
                completed = true
                TimerLines.virtualTimerFired(v, core, self)
            } else if intid == maintenanceINTID, let v = core.loaded {
                // Underflow (LRs have room again) or EOI of a passed-through SPI: reconcile the
                // LRs now, which also drops the maintenance level before its EOI.
                v.gicDirty = true
                VirtualInterrupts.prepareEntry(v)
            } else if intid == SelfHostedPMU.physicalINTID {
                SelfHostedPMU.overflowed(core, self)
            } else if intid == uartINTID {
                Console.receive { consoleRouter.received($0, self) }
            } else if intid >= 32, Int(intid) - 32 < spiOwners.count, let vm = spiOwners[Int(intid) - 32] {
                // A passed-through device: masked until the guest completes the virtual SPI.
                core.interrupts.maskSPI(intid)
                if vm.state == .running { VirtualInterrupts.raise(intid, vm: vm, vcpu: 0, self) }
            } else if intid == PhysicalCPU.rescheduleSGI {
                // Another core woke a vCPU this core may run, or raised an interrupt for ours.
                if let v = core.loaded { v.gicDirty = true }
                core.wakeupPending = true
            }
        }
        if core.wakeupPending { sliceOver = true }
        if !sliceOver, let c = running(on: core), scheduler.states[c.slot] == .runnable { armTimer(core) }
        return sliceOver
    }

    /// The guest completed these passed-through SPIs (bit n: INTID 32 + n): unmask them.
    func reenablePassthrough(_ mask: UInt64) {
        var m = mask, n: UInt32 = 0
        while m != 0 {
            if m & 1 != 0 { cores[0].interrupts.unmaskSPI(32 + n) }
            m >>= 1; n += 1
        }
    }

    /// A vCPU became runnable, or got an interrupt while running: make a core look at it. A
    /// woken vCPU takes a busy core only when the scheduler says its share allows it (else
    /// it runs when that core's slice ends); an idle core takes it at once.
    func kick(for vcpu: VirtualCPU, woken: Bool) {
        // SAFETY: the cores live as long as the hypervisor (no reference counting on this
        // path, which every SGI and wake-up takes).
        coreRefs[Int(this_core().pointee.core)]._withUnsafeGuaranteedRef { kick(for: vcpu, woken: woken, from: $0) }
    }

    private func kick(for vcpu: VirtualCPU, woken: Bool, from me: PhysicalCPU) {
        if let core = scheduler.runningOn[vcpu.slot] {
            if core != me.index { coreRefs[core]._withUnsafeGuaranteedRef { $0.sendReschedule() } }
            return
        }
        guard woken else { return }
        var idle: UInt64 = 0
        for i in 0..<cores.count where coreRefs[i].takeUnretainedValue().idle { idle |= 1 << UInt64(i) }
        let allowed = scheduler.affinity[vcpu.slot]
        let allowedHere = allowed & (1 << UInt64(me.index)) != 0
        if allowedHere && me.idle { me.wakeupPending = true; return }
        let now = read_cntpct_el0()
        if allowed & idle == 0 {
            // Every core it may use is busy: compare with what their vCPUs have run until now.
            if allowedHere {
                chargeRunning(me)
                if scheduler.shouldPreempt(vcpu.slot, core: me.index, now: now) { me.wakeupPending = true; return }
            }
            for i in 0..<cores.count where i != me.index && allowed & (1 << UInt64(i)) != 0 {
                chargeRunning(coreRefs[i].takeUnretainedValue())
            }
        }
        if let target = scheduler.coreToKick(for: vcpu.slot, idleCores: idle, except: me.index, now: now) {
            coreRefs[target]._withUnsafeGuaranteedRef { $0.sendReschedule() }
        }
    }

    /// Fires the timers kept in software: virtual timers of vCPUs not loaded anywhere, and
    /// every vCPU's emulated physical timer.
    func runSoftwareTimers() {
        let now = read_cntpct_el0()
        if shutdownsPending > 0 { destroyOverdueShutdowns(now: now) }
        if XenGuest.timedPolls > 0 { XenGuest.endTimedOutPolls(now: now, self) }
        if XenstoreGlue.hasBacklog { XenstoreGlue.serveBacklog(self) }
        if RealTimeClock.armedAlarms > 0 { RealTimeClock.fireAlarms(now: now, self) }
        for v in vcpus where v.vm.state == .running {
            if v.loadedOn == nil, !v.virtualTimerLine, TimerDeadlines.hasPassed(v.virtualTimerDeadline, now: now) {
                TimerLines.setVirtualLine(v, high: true, self)
            }
            if TimerDeadlines.hasPassed(v.waitDeadline, now: now) { WaitWithTimeout.timedOut(v, self) }
            if v.physicalTimer.fire(now: now) {   // CNTPCT: no offset
                TimerLines.setLine(InterruptID.physicalTimer, v, high: true, self)
            }
        }
    }

    /// Programs this core's CNTHP for the earliest of: its slice end, a software timer's
    /// deadline. A vCPU's timers are armed only on the core it ran on last (the scheduler's
    /// `home`, where it waits), so that one guest's timer does not wake every core; the
    /// console's, Xen's and the RTC's deadlines on every core. Whichever fires runs them all.
    func armTimer(_ core: PhysicalCPU) {
        var deadlines = TimerDeadlines(sliceEnd: core.sliceEnd)
        if shutdownsPending > 0 {
            for vm in vms { deadlines.include(vm.shutdownDeadline) }
        }
        if XenGuest.timedPolls > 0 { XenGuest.includePollDeadlines(&deadlines, self) }
        if RealTimeClock.armedAlarms > 0 { RealTimeClock.includeAlarms(&deadlines, self) }
        // A store ring with more than one exit's work: served again in a millisecond.
        if XenstoreGlue.hasBacklog { deadlines.include(read_cntpct_el0() &+ read_cntfrq_el0() / 1000) }
        let home = scheduler.home
        for v in vcpus where home[v.slot] == core.index && v.vm.state == .running {
            if v.loadedOn == nil && !v.virtualTimerLine { deadlines.include(v.virtualTimerDeadline) }
            deadlines.include(v.physicalTimer.deadline)
            deadlines.include(v.waitDeadline)
        }
        // A capped guest waiting for its budget: its refill.
        if scheduler.hasCaps, let refill = scheduler.nextRefill(now: read_cntpct_el0()) { deadlines.include(refill) }
        guard let deadline = deadlines.earliest else { PreemptionTimer.disarm(); return }
        PreemptionTimer.arm(at: deadline)
    }

    /// World switch (Arm ARM D1.2): EL1 system registers, FP/SIMD, vGIC interface, stage-2
    /// base and VMID.
    private func load(_ next: VirtualCPU, on core: PhysicalCPU) {
        unload(core)
        write_cntvoff_el2(next.vm.cntvoff)
        el1_context_restore(next.el1)
        SelfHostedDebug.switchTo(next, on: core)
        SelfHostedPMU.switchedIn(next, core)
        fp_state_restore(next.fp)
        VirtualInterrupts.restore(next)
        TimerLines.switchedIn(next, core)
        write_vttbr_el2(next.vm.vttbr)
        SetWay.writeHCR(next)   // HCR_EL2.TVM is per vCPU
        isb()
        // Spectre-v2/BHB: one VM's branch training must not steer another (not within a VM).
        if core.lastVMID != next.vm.vmid.rawValue { BranchPredictorHardening.switchedVM(to: next.vm.vmid.rawValue, on: core) }
        // TLB entries are tagged with the VMID, not the vCPU: if another vCPU of this VM ran on
        // this core last, its stage-1 entries (same ASIDs, other page tables) must go.
        if next.vm.lastVCPUOnCore[core.index] != next.id.rawValue {
            if next.vm.lastVCPUOnCore[core.index] != nil { tlbi_vmalle1() }
            next.vm.lastVCPUOnCore[core.index] = next.id.rawValue
        }
        next.loadedOn = core.index
        next.ranOnCores |= 1 << UInt64(core.index)
        core.markLoaded(next)
        XenGuest.switchedIn(next)
    }

    /// The keyboard: the physical UART's receive interrupt, routed to the boot core.
    func startConsoleInput() {
        consoleRouter = ConsoleRouter(guestCount: vms.count)
        guard let intid = platform.uartINTID, intid >= 32 else { return }   // no keyboard: no focus
        uartINTID = intid
        cores[0].interrupts.configureSPI(intid)
        Console.enableReceiveInterrupts()
        // On a plain serial line, say where typing goes; the host tool says it itself.
        if !vms.isEmpty && !Console.multiplexed { consoleRouter.announce(consoleRouter.input.focus, self) }
        // (Without a receive interrupt, nobody has the focus: all output stays line-buffered.)
    }

    /// A rebooting VM's vCPU loaded here must be saved before its VM can be reloaded.
    private func unloadIfNotRunnable(_ core: PhysicalCPU) {
        if let v = core.loaded, v.vm.state == .rebooting, scheduler.runningOn[v.slot] == nil { unload(core) }
    }

    /// Saves the loaded vCPU's state to memory, so that any core can run it next.
    private func unload(_ core: PhysicalCPU) {
        // SAFETY: `vcpus` owns every vCPU (no reference counting on the switch path).
        guard let loaded = core.loadedRef else { return }
        loaded._withUnsafeGuaranteedRef { previous in
            XenGuest.switchedOut(previous, self)
            SelfHostedPMU.switchedOut(previous, core)
            el1_context_save(previous.el1)
            fp_state_save(previous.fp)
            VirtualInterrupts.save(previous)
            TimerLines.switchedOut(previous, self)
            VirtualCPUInterface.writeHCR(0)
            previous.loadedOn = nil
        }
        core.loaded = nil
    }

    /// Ends a VM with `ending`: its vCPUs never run again. Other cores running its vCPUs are
    /// kicked off them. False, and nothing happens, when it had ended already (the caller then
    /// reports nothing: how it ended first stands).
    @discardableResult
    func finish(_ vm: VirtualMachine, _ ending: VirtualMachine.Ending) -> Bool {
        let wasRebooting = vm.state == .rebooting
        vm.flushConsole()
        guard vm.lifecycle.finish(ending) else { return false }
        releaseGrants(of: vm)
        XenGuest.tearDown(vm, self)
        if wasRebooting { rebootsPending -= 1 }
        if vm.shutdownDeadline != nil { vm.shutdownDeadline = nil; shutdownsPending -= 1 }
        vm.endedAt = read_cntpct_el0()
        let me = thisCore.index
        for vcpu in vm.vcpus {
            scheduler.setState(vcpu.slot, .finished)
            if let core = scheduler.runningOn[vcpu.slot], core != me {
                cores[core].sendReschedule()
            }
        }
        return true
    }

    /// PSCI SYSTEM_RESET or SCHEDOP_shutdown(reboot): the guest starts again with fresh memory,
    /// once none of its vCPUs runs anywhere (`completeReboots`). A guest in a reboot loop is
    /// stopped after `VMLifecycle.maximumBoots` boots.
    func reboot(_ vm: VirtualMachine) {
        guard vm.state == .running else { return }
        guard vm.lifecycle.mayBootAgain else {
            shutDown(vm, reason: .reboot, exitCode: 0, endingAs: .stopped("rebooted too many times"))
            Console.log(.rebootedTooOften(guest: MessageText(vm.name), boots: UInt64(vm.boots)))
            return
        }
        vm.flushConsole()
        if vm.shutdownDeadline != nil { vm.shutdownDeadline = nil; shutdownsPending -= 1 }
        Console.log(.rebooting(guest: MessageText(vm.name), boot: UInt64(vm.boots + 1)))
        vm.lifecycle.reboot()
        releaseGrants(of: vm)
        XenGuest.tearDown(vm, self)
        rebootsPending += 1
        let me = thisCore.index
        for vcpu in vm.vcpus {
            scheduler.setState(vcpu.slot, .off)
            if let core = scheduler.runningOn[vcpu.slot], core != me {
                cores[core].sendReschedule()
            }
        }
    }

    /// Reloads rebooting (or created) VMs none of whose vCPUs runs anywhere any more, once
    /// their RAM is zeroed and their images copied in: at most one piece of that per call,
    /// with the lock released during it (`prepareRAM`; `idle`: the core has nothing else to
    /// run, the piece may be long). True when RAM this core may prepare is left.
    func completeReboots(on core: PhysicalCPU, idle: Bool) -> Bool {
        var moreToPrepare = false, zeroedAPiece = false
        for vm in vms where vm.state == .rebooting {
            guard !vm.vcpus.contains(where: { scheduler.runningOn[$0.slot] != nil || $0.loadedOn != nil }) else { continue }
            if vm.bootImages == nil {   // first created by the console: place its images
                guard let images = GuestBuilder.planImages(vm) else {
                    vm.lifecycle.finish(.stopped("its images no longer load"))
                    rebootsPending -= 1
                    continue
                }
                vm.bootImages = images
                vm.ramPreparation.plan(images.copies)
            }
            if !vm.ramPreparation.isComplete {
                guard mayPrepareRAM(of: vm, on: core) else { continue }
                guard !zeroedAPiece else { moreToPrepare = true; continue }
                guard prepareRAM(vm, on: core, untilInterrupted: idle) else { continue }   // another core is zeroing a piece of it
                zeroedAPiece = true
                // The lock was released meanwhile: the VM may have been destroyed.
                guard vm.state == .rebooting, vm.ramPreparation.isComplete else {
                    if vm.state == .rebooting { moreToPrepare = true }
                    continue
                }
            }
            vm.lifecycle.beginBoot()
            rebootsPending -= 1
            // A guest created again: its vCPUs come back from `.finished`, powered off.
            for v in vm.vcpus { scheduler.revive(v.slot) }
            restoreFreshMemory(vm)
            defer { vm.ramPreparation.restart() }   // loaded or failed, this RAM is not fresh
            guard GuestBuilder.load(vm, vm.bootImages!) else {
                vm.lifecycle.finish(.stopped("its images no longer load"))
                for v in vm.vcpus { scheduler.setState(v.slot, .finished) }
                continue
            }
            for intid in vm.manifest.interrupts { cores[0].interrupts.unmaskSPI(intid) }
            vm.lifecycle.booted()
            scheduler.setState(vm.vcpus[0].slot, .runnable)
            kick(for: vm.vcpus[0], woken: true)   // its core may be asleep
            if vm.boots == 1 { Console.log(.created(guest: MessageText(vm.name))) }
        }
        return moreToPrepare
    }

    /// The guest shut itself down (`endingAs`: how `list` shows it, if not as shut down).
    func shutDown(_ vm: VirtualMachine, reason: XenABI.ShutdownReason, exitCode: UInt32,
                  endingAs ending: VirtualMachine.Ending? = nil) {
        guard finish(vm, ending ?? .shutDown(reason, exitCode: exitCode)) else { return }
        // vm.vcpus is in id order (GuestBuilder appends 0..<n), as the message lists them.
        Console.log(.shutDown(guest: MessageText(vm.name), reason: MessageText(reason.name), exitCode: UInt64(exitCode),
                              vcpuCores: vm.vcpus.map { $0.ranOnCores }))
    }

    /// Stops a misbehaving guest with a message naming it, the cause, the exception class,
    /// the IPA and the PC.
    func stop(_ vcpu: VirtualCPU, cause: StaticString, esr: ESR, ipa: UInt64?) {
        guard finish(vcpu.vm, .stopped(cause)) else { return }
        let fault = HypervisorMessage.Fault(vcpu: UInt64(vcpu.id.rawValue), exceptionClass: UInt64(esr.exceptionClass.code),
                                            exceptionClassName: MessageText(esr.exceptionClass.name), esr: esr.rawValue,
                                            ipa: ipa, pc: vcpu.frame.pointee.elr_el2)
        Console.log(.stopped(guest: MessageText(vcpu.vm.name), cause: MessageText(cause), fault: fault))
    }

    /// After PSCI CPU_OFF: a VM none of whose vCPUs is running or waiting has ended.
    func stopVMsWithNoRunningVCPU() {
        for vm in vms where vm.state == .running {
            if !vm.vcpus.contains(where: { scheduler.states[$0.slot] == .runnable || scheduler.states[$0.slot] == .blocked }) {
                finish(vm, .stopped("every vCPU is off"))
                Console.log(.stopped(guest: MessageText(vm.name), cause: "every vCPU is off", fault: nil))
            }
        }
    }

    private func allGuestsFinished() -> Never {
        Console.log(.allGuestsFinished)
        Firmware.systemOff(conduit: platform.psciConduit)
    }
}

/// The one hypervisor instance, set once at boot.
nonisolated(unsafe) var hypervisor: Hypervisor? {
    didSet { hypervisorRef = hypervisor.map { Unmanaged.passUnretained($0) } }
}
/// `hypervisor` without reference counting, for the exit path (`hypervisor` keeps it alive).
nonisolated(unsafe) var hypervisorRef: Unmanaged<Hypervisor>?

/// PSCI calls the hypervisor itself makes to the firmware (or QEMU's built-in PSCI).
enum Firmware {
    static func call(_ fid: SMCCCCall.FunctionID, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64,
                     conduit: HostPlatform.PSCIConduit?) -> Int64 {
        let f = UInt64(fid.rawValue)
        return Int64(bitPattern: conduit == .hvc ? firmware_call_hvc(f, a1, a2, a3) : firmware_call_smc(f, a1, a2, a3))
    }

    /// The Raspberry Pi's PM watchdog: set at boot when the device tree has one.
    nonisolated(unsafe) static var watchdog: BCM2835Watchdog?
    /// The PSCI conduit the device tree gives (nil: no PSCI), set at boot; a panic before the
    /// hypervisor exists uses it.
    nonisolated(unsafe) static var psciConduit: HostPlatform.PSCIConduit? = .smc

    /// PSCI SYSTEM_OFF; on a machine without PSCI (Raspberry Pi: spin table, no firmware
    /// calls) the PM watchdog's halt, which QEMU run with -no-reboot takes as the end.
    /// (`conduit` is the platform's: callers pass `platform.psciConduit` or `psciConduit`.)
    static func systemOff(conduit: HostPlatform.PSCIConduit?) -> Never {
        ConsoleOutput.finish()   // everything queued reaches the UART first
        let fid = UInt64(SMCCCCall.FunctionID.systemOff.rawValue)
        switch conduit {
        case .hvc: _ = firmware_call_hvc(fid, 0, 0, 0)
        case .smc: _ = firmware_call_smc(fid, 0, 0, 0)
        case nil:
            watchdog?.powerOff()
            _ = firmware_call_smc(fid, 0, 0, 0)   // no PSCI node and no watchdog: try the usual conduit
        }
        halt_forever()
    }
}
