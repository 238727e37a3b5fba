import CArch
import SwiftvisorCore

/// Words of a guest's shared_info or vcpu_info, through their host address (in the guest's RAM,
/// or the hypervisor's own shared_info page before the guest maps it).
struct SharedPage: SharedWords {
    let base: UInt64
    func testAndSet(_ offset: Int, bit: Int) -> Bool {
        let m: UInt64 = 1 << UInt64(bit)
        return shared_fetch_or64(base &+ UInt64(offset), m) & m != 0
    }
    func testAndClear(_ offset: Int, bit: Int) -> Bool {
        let m: UInt64 = 1 << UInt64(bit)
        return shared_fetch_and64(base &+ UInt64(offset), ~m) & m != 0
    }
    func test(_ offset: Int, bit: Int) -> Bool { shared_load64(base &+ UInt64(offset)) & (1 << UInt64(bit)) != 0 }
    func store(_ offset: Int, _ value: UInt64) { shared_store64(base &+ UInt64(offset), value) }
}

/// One guest's part of Xen's guest interface: where its shared_info and vcpu_infos are, its
/// runstate areas, polls and shutdown code. Reset at every boot (Xen creates the domain anew).
final class XenGuestState {
    /// The hypervisor's shared_info page for this guest, used until the guest maps it
    /// (XENMEM_add_to_physmap), as Xen's own page is.
    let ownPage: UInt64
    /// Host address of the shared_info in use.
    var sharedInfo: UInt64
    /// Guest frame the shared_info is mapped at, if it is.
    var sharedInfoFrame: UInt64?
    /// Host address of each vCPU's registered vcpu_info (VCPUOP_register_vcpu_info).
    var vcpuInfo: [UInt64?]
    /// Each vCPU's runstate (in counter ticks; nanoseconds only when written to the guest) and
    /// the guest VA of its area (0: none registered).
    var runstate: [XenRunstate]
    var runstateArea: [UInt64]
    /// Runstates are kept once a vCPU of the guest has registered an area (the world switch
    /// stays as cheap as before for guests that never do).
    var tracksRunstate = false
    /// SCHEDOP_poll: the port a vCPU waits for (-1: any), and when it gives up (counter value).
    var pollPort: [Int64?]
    var pollDeadline: [UInt64?]
    /// VMASST_TYPE_runstate_update_flag.
    var runstateUpdateFlag = false
    /// SCHEDOP_shutdown_code: the reason a later shutdown reports (the first one set counts).
    var shutdownCode: UInt32?
    /// The console and xenstore pages (two hypervisor pages, in this order), mapped in the
    /// guest's stage 2 at GUEST_MAGIC_BASE; nil for a guest with `enhanced = "disabled"`.
    var magicPages: HostPhysicalAddress?
    /// HVM_PARAM_STORE_* / CONSOLE_*: what the toolstack set at this boot.
    var hvmParams = XenHVMParam.Values()
    /// The guest has signalled its store port at this boot: it talks to xenstore, so a
    /// shutdown is asked through control/shutdown.
    var storeConnected = false
    /// The `memory/target` written since the guest was introduced (KiB; 0: the one xl writes,
    /// all its RAM). Only ever lowered: `followReservation`.
    var memoryTargetKiB: UInt64 = 0
    /// The console's `reboot` asked through control/shutdown: at the deadline the guest is
    /// rebooted rather than destroyed.
    var rebootWhenOverdue = false

    init(vcpus: Int) {
        // SAFETY: a page of the hypervisor's heap, never freed (VMs live as long as the hypervisor).
        ownPage = UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: Int(PageSize.granule),
                                                                           alignment: Int(PageSize.granule))))
        sharedInfo = ownPage
        vcpuInfo = Array(repeating: nil, count: vcpus)
        runstate = Array(repeating: XenRunstate(), count: vcpus)
        runstateArea = Array(repeating: 0, count: vcpus)
        pollPort = Array(repeating: nil, count: vcpus)
        pollDeadline = Array(repeating: nil, count: vcpus)
    }

    /// The vcpu_info events for `vcpu` go to: its registered one; for vCPU 0 before that,
    /// shared_info's vcpu_info[0]; for the others none (XEN_LEGACY_MAX_VCPUS is 1 on Arm).
    func vcpuInfoAddress(_ vcpu: Int) -> UInt64? {
        if let registered = vcpuInfo[vcpu] { return registered }
        return vcpu == 0 ? sharedInfo : nil
    }
}

/// Xen's event channels, shared_info, vcpu_info and runstate areas for the guests.
/// Everything here runs with the hypervisor lock held.
enum XenGuest {
    /// Every domain's ports (the core's state machine), indexed by domain ID.
    nonisolated(unsafe) static var channels = EventChannels(domainCount: Limits.guests)
    /// Guests that keep runstates, and vCPUs polling with a timeout: while both are 0 the world
    /// switch and the timers skip this file altogether (one load each).
    nonisolated(unsafe) static var runstateTrackers = 0
    nonisolated(unsafe) static var timedPolls = 0

    // MARK: wallclock

    /// The host's real time when the hypervisor started (PL031), and the counter then.
    nonisolated(unsafe) static var bootSeconds: UInt64 = 0
    nonisolated(unsafe) static var bootCounter: UInt64 = 0

    static func startWallclock(_ platform: HostPlatform) {
        guard let rtc = platform.realTimeClock else {
            Console.log("no PL031 real-time clock in the device tree: guests' Xen wallclock reads 0\n")
            return
        }
        bootCounter = read_cntpct_el0()
        bootSeconds = UInt64(PL031RTC(base: rtc.base.rawValue).seconds)
    }

    /// Nanoseconds of Xen's "system time" at physical counter value `counter`.
    static func systemTime(_ counter: UInt64) -> UInt64 {
        let f = read_cntfrq_el0()
        return (counter / f) &* 1_000_000_000 &+ (counter % f) &* 1_000_000_000 / f
    }

    /// The counter value at system time `ns`.
    static func counter(atSystemTime ns: UInt64) -> UInt64 {
        let f = read_cntfrq_el0()
        return (ns / 1_000_000_000) &* f &+ (ns % 1_000_000_000) &* f / 1_000_000_000
    }

    /// shared_info's wc_* (version odd while written): the wallclock when this boot of the guest
    /// started, which Linux adds its monotonic time to (arch/arm/xen/enlighten.c).
    static func writeWallclock(_ vm: VirtualMachine) {
        guard bootSeconds != 0 else { return }
        let f = read_cntfrq_el0()
        let since = vm.startedAt &- bootCounter
        let seconds = bootSeconds &+ since / f, nanoseconds = UInt32((since % f) &* 1_000_000_000 / f)
        let wc = vm.xen.sharedInfo &+ UInt64(EventChannel2Level.wallclockOffset)
        // SAFETY: the shared_info page (the hypervisor's or the guest's RAM), 4-byte aligned fields.
        let version = UnsafePointer<UInt32>(bitPattern: UInt(wc))!.pointee
        shared_store32(wc, version &+ 1)
        dsb_ish()
        shared_store32(wc + 4, UInt32(truncatingIfNeeded: seconds))
        shared_store32(wc + 8, nanoseconds)
        shared_store32(wc + 12, UInt32(truncatingIfNeeded: seconds >> 32))
        dsb_ish()
        shared_store32(wc, version &+ 2)
    }

    // MARK: life of a guest

    /// The guest's /hypervisor node, unless its `enhanced` key says "disabled"; passed-through
    /// device memory (at its own address) is kept out of the extended regions.
    static func hypervisorNode(for guest: BootManifest.Guest) -> XenHypervisorNode? {
        guard guest.enhanced.hasHypervisorNode else { return nil }
        return XenHypervisorNode(occupied: guest.deviceMemory.map { AddressRange(base: GuestPhysicalAddress($0.base.rawValue), size: $0.size) })
    }

    /// The reason a shutdown asked for as `requested` reports: the one set first with
    /// SCHEDOP_shutdown_code, if any (Xen's domain_shutdown).
    static func shutdownReason(_ vm: VirtualMachine, _ requested: XenABI.ShutdownReason) -> XenABI.ShutdownReason {
        guard let code = vm.xen.shutdownCode, let coded = XenABI.ShutdownReason(rawValue: code) else { return requested }
        return coded
    }

    /// A (re)boot: fresh shared_info, no registrations, fresh ports (evtchn_init).
    static func reset(_ vm: VirtualMachine) {
        let x = vm.xen
        PVConsole.reset(vm)
        zero_memory(x.ownPage, PageSize.granule)
        x.sharedInfo = x.ownPage
        x.sharedInfoFrame = nil
        for i in 0..<vm.vcpus.count {
            x.vcpuInfo[i] = nil
            x.runstate[i] = XenRunstate()
            x.runstateArea[i] = 0
            x.pollPort[i] = nil
            if x.pollDeadline[i] != nil { timedPolls -= 1 }
            x.pollDeadline[i] = nil
        }
        x.runstateUpdateFlag = false
        if x.tracksRunstate { runstateTrackers -= 1 }
        x.tracksRunstate = false
        x.shutdownCode = nil
        x.rebootWhenOverdue = false
        writeWallclock(vm)
        channels.start(vm.domid, vcpus: vm.vcpus.count)
        if let magic = x.magicPages {
            zero_memory(magic.rawValue, 2 * PageSize.granule)
            clean_dcache_to_poc(magic.rawValue, 2 * PageSize.granule)
        }
        // The toolstack's part of building a domain: a port bound to each hypervisor service.
        var store: UInt32?, console: UInt32?
        for service in vm.manifest.enhanced.services where x.magicPages != nil {
            let port = channels.connect(service, to: vm.domid)
            if service == .xenstore { store = port } else { console = port }
        }
        x.hvmParams = XenHVMParam.Values(storePort: store, consolePort: console)
        XenstoreGlue.introduce(vm)
    }

    /// Host address of `vm`'s console or xenstore page (XenGuestLayout's page offsets).
    static func magicPage(_ vm: VirtualMachine, offset: UInt64) -> HostPhysicalAddress? {
        vm.xen.magicPages.map { $0 + offset * PageSize.granule }
    }

    /// The guest shut down, rebooted or was destroyed: its ports close, and each peer's port
    /// is unbound again (evtchn_destroy).
    static func tearDown(_ vm: VirtualMachine, _ hv: Hypervisor) {
        channels.destroy(vm.domid)
        XenstoreGlue.release(vm, hv)
    }

    // MARK: delivery

    /// Sets a port pending in its domain's shared_info; raises the event-channel PPI on the
    /// vCPU when its upcall becomes pending; wakes vCPUs polling for it.
    static func deliver(_ d: EventChannels.Delivery, _ hv: Hypervisor) {
        guard let vm = hv.vm(d.domain), vm.state == .running, d.vcpu < vm.vcpus.count else { return }
        let x = vm.xen
        let info = x.vcpuInfoAddress(d.vcpu).map { SharedPage(base: $0) }
        switch EventChannel2Level.setPending(d.port, shared: SharedPage(base: x.sharedInfo), vcpuInfo: info) {
        case .alreadyPending: return
        case .pending: break
        case .upcall: VirtualInterrupts.raise(XenGuestLayout.eventChannelPPI, vm: vm, vcpu: d.vcpu, hv)
        }
        // evtchn_check_pollers
        for v in vm.vcpus {
            guard let p = x.pollPort[v.id.rawValue], p < 0 || p == Int64(d.port) else { continue }
            endPoll(v)
            VirtualInterrupts.kick(v, hv)
        }
    }

    /// `v` polls for `port` (-1: any), until counter value `deadline` if one is given.
    static func startPoll(_ v: VirtualCPU, port: Int64, deadline: UInt64?) {
        endPoll(v)
        v.vm.xen.pollPort[v.id.rawValue] = port
        v.vm.xen.pollDeadline[v.id.rawValue] = deadline
        if deadline != nil { timedPolls += 1 }
    }

    static func endPoll(_ v: VirtualCPU) {
        let x = v.vm.xen, i = v.id.rawValue
        x.pollPort[i] = nil
        if x.pollDeadline[i] != nil { timedPolls -= 1 }
        x.pollDeadline[i] = nil
    }

    /// The polls' timeouts, for the hypervisor's timer (`Hypervisor.armTimer`).
    static func includePollDeadlines(_ deadlines: inout TimerDeadlines, _ hv: Hypervisor) {
        for v in hv.vcpus where v.vm.state == .running { deadlines.include(v.vm.xen.pollDeadline[v.id.rawValue]) }
    }

    /// Ends the polls whose timeout has passed and wakes their vCPUs (`runSoftwareTimers`).
    static func endTimedOutPolls(now: UInt64, _ hv: Hypervisor) {
        for v in hv.vcpus where v.vm.state == .running {
            guard let d = v.vm.xen.pollDeadline[v.id.rawValue], now >= d else { continue }
            endPoll(v)
            VirtualInterrupts.kick(v, hv)
        }
    }

    // MARK: runstate

    /// `v` is loaded on this core (its EL1 state and stage 2 are live): it runs from now, and
    /// its runstate area is written as Xen's update_runstate_area does on every switch to it.
    @inline(__always)
    static func switchedIn(_ v: VirtualCPU) {
        if runstateTrackers > 0 { trackSwitchIn(v) }
    }

    @inline(never)
    static func trackSwitchIn(_ v: VirtualCPU) {
        let x = v.vm.xen, i = v.id.rawValue
        guard x.tracksRunstate else { return }
        x.runstate[i].enter(.running, at: read_cntpct_el0())
        if x.runstateArea[i] != 0 { writeRunstate(of: v, through: v) }
    }

    /// `v` leaves this core, in the state the scheduler gives it.
    @inline(__always)
    static func switchedOut(_ v: VirtualCPU, _ hv: Hypervisor) {
        if runstateTrackers > 0 { trackSwitchOut(v, hv) }
    }

    @inline(never)
    static func trackSwitchOut(_ v: VirtualCPU, _ hv: Hypervisor) {
        guard v.vm.xen.tracksRunstate else { return }
        let new: XenRunstate.State
        switch hv.scheduler.states[v.slot] {
        case .runnable: new = .runnable
        case .blocked: new = .blocked
        case .off, .finished: new = .offline
        }
        v.vm.xen.runstate[v.id.rawValue].enter(new, at: read_cntpct_el0())
    }

    /// The first runstate area of the guest: from now on every vCPU's runstate is kept, each
    /// starting in its present state (running for the caller) with no time accounted yet.
    static func startTrackingRunstate(_ vm: VirtualMachine, caller: VirtualCPU, _ hv: Hypervisor) {
        let x = vm.xen
        guard !x.tracksRunstate else { return }
        x.tracksRunstate = true
        runstateTrackers += 1
        let now = read_cntpct_el0()
        for v in vm.vcpus {
            var r = XenRunstate()
            let state: XenRunstate.State
            if v === caller || hv.scheduler.runningOn[v.slot] != nil { state = .running } else {
                switch hv.scheduler.states[v.slot] {
                case .runnable: state = .runnable
                case .blocked: state = .blocked
                case .off, .finished: state = .offline
                }
            }
            r.state = state
            r.entryTime = now
            x.runstate[v.id.rawValue] = r
        }
    }

    /// Copies `v`'s runstate to its area, translated with the page tables of `current` (the
    /// loaded vCPU), with XEN_RUNSTATE_UPDATE set in state_entry_time meanwhile when the guest
    /// asked for it (VMASST_TYPE_runstate_update_flag). Errors are ignored, as Xen does.
    static func writeRunstate(of v: VirtualCPU, through current: VirtualCPU) {
        let x = v.vm.xen, i = v.id.rawValue, va = x.runstateArea[i]
        var r = x.runstate[i]   // ticks to nanoseconds of system time
        r.entryTime = systemTime(r.entryTime)
        r.time = (systemTime(r.time.0), systemTime(r.time.1), systemTime(r.time.2), systemTime(r.time.3))
        let topByte = va &+ 15   // the most significant byte of state_entry_time
        if x.runstateUpdateFlag {
            _ = GuestMemory.write(topByte, bytes: [UInt8(truncatingIfNeeded: (r.entryTime | XenRunstate.updateFlag) >> 56)], vcpu: current)
            dsb_ish()
            _ = GuestMemory.write(va, bytes: r.bytes(updating: true), vcpu: current)
            dsb_ish()
            _ = GuestMemory.write(topByte, bytes: [UInt8(truncatingIfNeeded: r.entryTime >> 56)], vcpu: current)
        } else {
            _ = GuestMemory.write(va, bytes: r.bytes(), vcpu: current)
        }
    }
}
