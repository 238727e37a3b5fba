import CArch
import SwiftvisorCore

/// A guest's store ring page (`struct xenstore_domain_interface`, its magic page at
/// XENSTORE_PFN_OFFSET), served through a `XenstoreRingBudget`.
struct XenstoreStorePage: XenstoreRingPage {
    let base: UInt64
    init(base: HostPhysicalAddress) { self.base = base.rawValue }

    // SAFETY (all): `base` is the VM's xenstore magic page, a hypervisor page identity mapped
    // at EL2 (Normal memory); every offset the server uses is below XenstoreRing.pageBytes
    // (2076 < 4096), and words are 4-byte aligned. The guest writes the page concurrently:
    // words are single atomic accesses, and the server checks every index it reads.
    mutating func loadWord(at offset: Int) -> UInt32 { guest_atomic_load32(base &+ UInt64(offset)) }
    mutating func storeWord(_ value: UInt32, at offset: Int) { guest_atomic_store32(base &+ UInt64(offset), value) }
    mutating func loadByte(at offset: Int) -> UInt8 { UnsafePointer<UInt8>(bitPattern: UInt(base &+ UInt64(offset)))!.pointee }
    mutating func storeByte(_ value: UInt8, at offset: Int) { shared_store8(base &+ UInt64(offset), value) }
    mutating func barrier() { dsb_ish() }
}

/// xenstored's part of domain 0: one `XenstoreServer` for every guest, each guest with
/// `enhanced = "enabled"` introduced at each boot (as `xl create` populates the store) and
/// released when it ends, its ring served when it signals its store port.
/// Everything here runs with the hypervisor lock held.
enum XenstoreGlue {
    nonisolated(unsafe) static var server = XenstoreServer()
    /// Guests whose ring had more than one exit's budget: served again from the software
    /// timers (`serveBacklog`) until done.
    nonisolated(unsafe) static var backlog: [XenDomainID] = []
    /// `!backlog.isEmpty`, as a plain flag: the timers check it at every world switch.
    nonisolated(unsafe) static var hasBacklog = false

    /// What a driver domain's `memory/target` leaves below its RAM (at most 1/16 of it): Linux's
    /// balloon gives that back at boot and keeps the pages in its list, and its backends take
    /// the frames they map grants into from there (gnttab_alloc_pages without
    /// XEN_UNPOPULATED_ALLOC) instead of ballooning out more while they run. A backend that
    /// allocated and freed at once (netback's queue when a connect fails) otherwise raced the
    /// balloon thread's stale target, which then hotplugged address space below the guest's RAM
    /// (WARN in arm64's vmemmap_populate; see `followReservation`).
    static let grantReserveKiB: UInt64 = 16 * 1024

    /// At a guest's (re)boot, after its ports are connected: the store as xl fills it.
    static func introduce(_ vm: VirtualMachine) {
        let x = vm.xen
        guard vm.manifest.enhanced == .enabled, x.hvmParams.storePFN != 0 else { return }
        var info = XenstoreDomainInfo(domid: vm.domid.rawValue, name: Array(vm.name.utf8), uuid: vm.manifest.uuid,
                                      vcpus: vm.vcpus.count, memoryKiB: vm.hostRAM.size / 1024)
        info.storePort = UInt32(truncatingIfNeeded: x.hvmParams.storeEventChannel)
        info.storeFrame = x.hvmParams.storePFN
        if x.hvmParams.consolePFN != 0 {
            info.consolePort = UInt32(truncatingIfNeeded: x.hvmParams.consoleEventChannel)
            info.consoleFrame = x.hvmParams.consolePFN
        }
        if XenGuest.bootSeconds != 0 {
            let f = read_cntfrq_el0(), since = vm.startedAt &- XenGuest.bootCounter
            info.startTimeHundredths = XenGuest.bootSeconds &* 100 &+ since / f &* 100 &+ since % f &* 100 / f
        }
        x.storeConnected = false
        x.memoryTargetKiB = 0
        if let hv = hypervisor, hv.devices.contains(where: { $0.backendDomain == vm.domid }) {
            info.targetKiB = info.memoryKiB - min(Self.grantReserveKiB, info.memoryKiB / 16)
            x.memoryTargetKiB = info.targetKiB!
        }
        server.introduce(info)
        XenDeviceGlue.connect(vm)
    }

    /// The guest ended (or reboots): its nodes, watches and transactions go, as `xl destroy`.
    static func release(_ vm: VirtualMachine, _ hv: Hypervisor) {
        guard server.isIntroduced(vm.domid.rawValue) else { return }
        XenDeviceGlue.disconnect(vm, hv)
        server.release(vm.domid.rawValue)
        vm.xen.storeConnected = false
        backlog.removeAll { $0 == vm.domid }
        hasBacklog = !backlog.isEmpty
        serveAwaiting(hv)
    }

    /// The guest sent on its store port: its ring, then every ring with output waiting.
    @inline(never)
    static func signalled(by vm: VirtualMachine, _ hv: Hypervisor) {
        let first = !vm.xen.storeConnected
        vm.xen.storeConnected = true
        serve(vm, hv)
        // A driver domain's devices are written once it talks to the store (XenDeviceGlue.connect).
        if first { XenDeviceGlue.connect(vm) }
        if XenDeviceGlue.closing { XenDeviceGlue.settle(hv) }
        serveAwaiting(hv)
    }

    /// Asks a guest that talks to the store to power off or reboot (control/shutdown, as
    /// `xl shutdown` / `xl reboot`). False when it has no store or never used it.
    static func requestShutdown(_ vm: VirtualMachine, _ reason: XenstoreShutdownRequest, _ hv: Hypervisor) -> Bool {
        guard vm.xen.storeConnected, server.isIntroduced(vm.domid.rawValue), !server.isIgnored(vm.domid.rawValue) else { return false }
        guard server.requestShutdown(vm.domid.rawValue, reason) else { return false }
        serveAwaiting(hv)
        return true
    }

    /// Serves the backlog (from the software timers); nothing when it is empty.
    static func serveBacklog(_ hv: Hypervisor) {
        let waiting = backlog
        backlog = []
        hasBacklog = false
        for d in waiting { if let vm = hv.vm(d) { serve(vm, hv) } }
        if XenDeviceGlue.closing { XenDeviceGlue.settle(hv) }
        serveAwaiting(hv)
    }

    /// Replies and watch events queued for guests (by another guest's change or the
    /// hypervisor's) go out; each guest whose ring moved is notified.
    static func serveAwaiting(_ hv: Hypervisor) {
        for domid in server.domainsAwaitingService {
            if let vm = hv.vm(XenDomainID(rawValue: domid)) { serve(vm, hv) }
        }
    }

    private static func serve(_ vm: VirtualMachine, _ hv: Hypervisor) {
        guard vm.state == .running, let page = XenGuest.magicPage(vm, offset: XenGuestLayout.xenstorePageOffset) else { return }
        // At most one ring's worth (1 KiB) each way per exit: at most 64 requests answered, each
        // within the store's quotas, however fast another vCPU feeds and drains the ring.
        var ring = XenstoreRingBudget(XenstoreStorePage(base: page))
        if server.service(domid: vm.domid.rawValue, page: &ring) { HypervisorServices.notify(vm, .xenstore, hv) }
        if ring.exhausted, !backlog.contains(vm.domid) { backlog.append(vm.domid); hasBacklog = true }
    }
}
