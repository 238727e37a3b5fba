import CArch
import SwiftvisorCore

/// memory_op (12): the reservation sub-ops a balloon driver uses and add_to_physmap for grant
/// frames, as Xen 4.17 answers a domU (xen/common/memory.c, xen/arch/arm/mm.c).
/// XENMAPSPACE_shared_info is XenGuestCalls.swift's; the others are -ENOSYS, as on Arm.
@inline(never)
func memoryOp(command: UInt64, argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    let start = command >> XenMemoryOp.commandBits
    let errno: XenABI.Errno
    switch XenMemoryOp.Command(rawValue: command & (1 << XenMemoryOp.commandBits - 1)) {
    case .increaseReservation, .decreaseReservation, .populatePhysmap:
        return reservationOp(XenMemoryOp.Command(rawValue: command & 0x3F)!, start: start, argument: argument, vcpu, hv)
    case .currentReservation, .maximumReservation:
        guard start == 0 else { errno = .einval; break }
        var raw = [UInt8]()
        guard GuestMemory.read(argument, length: 2, vcpu: vcpu, { raw.append($0) }) else { errno = .efault; break }
        let requested = UInt16(raw[0]) | UInt16(raw[1]) << 8
        guard let d = XenDomainID.resolve(requested, caller: vcpu.vm.domid), let vm = hv.vm(d), vm.state == .running else {
            errno = .esrch; break
        }
        // XSM dummy policy (XSM_TARGET): a domU sees only its own.
        guard vm === vcpu.vm else { errno = .eperm; break }
        let r = vm.reservation
        f.pointee.x.0 = command & 0x3F == XenMemoryOp.Command.currentReservation.rawValue ? r.currentPages : r.maximumPages
        return .resume
    case .addToPhysmap:
        // xen_add_to_physmap.size is 16 bits: a start extent that does not fit is malicious.
        guard start <= 0xFFFF else { f.pointee.x.0 = UInt64(bitPattern: -33); return .resume }   // -EDOM
        f.pointee.x.0 = addToPhysmap(argument: argument, vcpu, hv)
        return .resume
    case nil:
        errno = .enosys
    }
    f.pointee.x.0 = errno.returnValue
    return .resume
}

/// XENMEM_increase/decrease_reservation, populate_physmap: returns the extents done. At most
/// `pagesPerExit` pages per exit; the rest continue as Xen's continuation (x0 carries the
/// extent reached, the HVC runs again).
@inline(never)
func reservationOp(_ command: XenMemoryOp.Command, start: UInt64, argument: UInt64,
                   _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    let vm = vcpu.vm
    var raw = [UInt8]()
    guard GuestMemory.read(argument, length: XenMemoryOp.Reservation.size, vcpu: vcpu, { raw.append($0) }) else {
        f.pointee.x.0 = start; return .resume
    }
    var r = XenMemoryOp.Reservation(bytes: raw)
    if let answer = XenMemoryOp.refusal(r, command: command, startExtent: start, caller: vm.domid,
                                        isLive: { hv.vm($0)?.state == .running }) {
        f.pointee.x.0 = answer; return .resume
    }
    let all = r.extentCount
    let pagesPerExit: UInt64 = 512
    if !insideMulticall { r.extentCount = min(all, start + max(1, pagesPerExit >> UInt64(r.extentOrder))) }
    let readFrame: (UInt64) -> UInt64? = { i in
        var v: UInt64 = 0, shift: UInt64 = 0
        let ok = GuestMemory.read(r.extentStart &+ 8 &* i, length: 8, vcpu: vcpu) { v |= UInt64($0) << shift; shift += 8 }
        return ok ? v : nil
    }
    let done: UInt64
    switch command {
    // No page can be added to a domU beyond its RAM (its host range is fixed): nothing done.
    case .increaseReservation: done = start
    case .decreaseReservation: done = XenMemoryOp.runExtents(r, start: start, readFrame: readFrame) { decreasePage(vm, $0) }
    default: done = XenMemoryOp.runExtents(r, start: start, readFrame: readFrame) { populatePage(vm, $0) }
    }
    if done == r.extentCount && done < all {
        f.pointee.x.0 = command.rawValue | done << XenMemoryOp.commandBits
        f.pointee.elr_el2 &-= 4   // the HVC again, on the extents left
        return .reschedule
    }
    f.pointee.x.0 = done
    if command == .decreaseReservation && done > start { followReservation(vm, hv) }
    return .resume
}

/// After a guest gave pages back, the toolstack's `memory/target` comes down to what it holds
/// (never up again in this boot). Xen leaves the target alone and lets a domain populate any
/// frame up to its maximum; here a domU's RAM is a fixed host range, and a target above what
/// it holds makes Linux's balloon chase the difference: a backend's grant pages come from the
/// balloon (decrease_reservation), and once some are freed while others stay out, the balloon
/// thread finds more credit than ballooned pages and, with CONFIG_XEN_BALLOON_MEMORY_HOTPLUG,
/// hotplugs address space below the guest's RAM (WARN in arm64's vmemmap_populate;
/// drivers/xen/balloon.c current_credit, reserve_additional_memory). With the target lowered,
/// freed pages stay in the balloon for the next grant mapping. Lowered only: raising it again
/// when the balloon repopulates would chase Linux's own reaction to the watch, back and forth.
func followReservation(_ vm: VirtualMachine, _ hv: Hypervisor) {
    guard XenstoreGlue.server.isIntroduced(vm.domid.rawValue) else { return }
    let all = vm.hostRAM.size / 1024
    let held = all - UInt64(vm.reservation.holeCount) * (PageSize.granule / 1024)
    let written = vm.xen.memoryTargetKiB == 0 ? all : vm.xen.memoryTargetKiB
    guard held < written else { return }
    vm.xen.memoryTargetKiB = held
    XenstoreGlue.server.write(XenstoreBytes.string("/local/domain/") + XenstoreBytes.decimal(UInt64(vm.domid.rawValue)) + XenstoreBytes.string("/memory/target"),
                              value: XenstoreBytes.decimal(held))
    XenstoreGlue.serveAwaiting(hv)
}

/// Gives one page back: it becomes a hole in stage 2 (Xen's guest_remove_page). A grant frame
/// leaves its place; a page of RAM another domain maps through a grant is kept (refused).
func decreasePage(_ vm: VirtualMachine, _ gfn: GuestFrameNumber) -> Bool {
    var tlb = VMStage2TLB(vttbr: vm.vttbr)
    if let frame = vm.grants.frameIndex(at: gfn) {
        guard (try? vm.stage2.unmapPage(input: gfn.address.rawValue, tlb: &tlb)) != nil else { return false }
        vm.grants.setPlace(ofFrame: frame, nil)
        return true
    }
    guard let i = vm.reservation.index(gfn), !vm.reservation.isHole(gfn), !vm.grants.isMapped(gfn) else { return false }
    guard let removed = try? vm.stage2.unmapPage(input: gfn.address.rawValue, tlb: &tlb),
          removed == vm.hostRAM.base + UInt64(i) * PageSize.granule else { return false }
    vm.reservation.setHole(gfn, true)
    return true
}

/// Fills a hole of its RAM again with the page that backed it, zeroed (Xen hands out scrubbed
/// pages). Anything else (outside RAM, populated, a grant mapped there) fails.
func populatePage(_ vm: VirtualMachine, _ gfn: GuestFrameNumber) -> Bool {
    guard let i = vm.reservation.index(gfn), vm.reservation.isHole(gfn), vm.stage2.translate(gfn.address.rawValue) == nil else {
        return false
    }
    let host = vm.hostRAM.base + UInt64(i) * PageSize.granule
    // SAFETY: a page of this VM's host RAM, identity mapped at EL2, mapped by no stage 2 now.
    zero_memory(host.rawValue, PageSize.granule)
    clean_dcache_to_poc(host.rawValue, PageSize.granule)
    guard (try? vm.stage2.mapPage(input: gfn.address.rawValue, output: host, attributes: Stage2Attributes.guestRAM)) != nil else {
        return false
    }
    vm.reservation.setHole(gfn, false)
    return true
}

/// XENMEM_add_to_physmap: XENMAPSPACE_grant_table puts grant frame `idx` at `gpfn`.
@inline(never)
func addToPhysmap(argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> UInt64 {
    var raw = [UInt8]()
    guard GuestMemory.read(argument, length: XenMemoryOp.AddToPhysmap.size, vcpu: vcpu, { raw.append($0) }) else {
        return XenABI.Errno.efault.returnValue
    }
    let request = XenMemoryOp.AddToPhysmap(bytes: raw)
    let vm = vcpu.vm
    if let e = XenMemoryOp.check(request, caller: vm.domid, isLive: { hv.vm($0)?.state == .running }) { return e.returnValue }
    switch XenMemoryOp.MapSpace(rawValue: request.space) {
    case .sharedInfo: return mapSharedInfo(request, vm)
    case .grantTable: break
    case .gmfn, .gmfnRange, .gmfnForeign, .devMMIO, nil: return XenABI.Errno.enosys.returnValue   // Arm's default
    }
    return mapGrantFrame(index: request.index, at: request.gpfn, vm, hv).returnValue
}

/// Grant frame `index` (the table grows to it, up to its maximum; with v1 the status bit
/// XENMAPIDX_grant_table_status makes the index too large: -EINVAL) at `gpfn`, which must be a
/// hole of its RAM or in the grant-table window (`GrantPlacement`; elsewhere -EINVAL). As Xen 4.17 on Arm, a frame mapped elsewhere must first be removed: -EBUSY.
func mapGrantFrame(index: UInt64, at gpfn: GuestFrameNumber, _ vm: VirtualMachine, _ hv: Hypervisor) -> ReturnValue {
    guard let table = hv.grantTable(vm.domid) else { return .errno(.enomem) }
    let i: Int
    switch table.frameToPlace(index: index, allocate: { hv.allocateGrantFrame() }) {
    case .failure(let errno): return .errno(errno)
    case .success(let frame): i = frame
    }
    guard GrantPlacement.allowed(gpfn, ram: vm.ram) else { return .errno(.einval) }
    do {
        try vm.stage2.mapPage(input: gpfn.address.rawValue, output: table.frames[i], attributes: Stage2Attributes.guestRAM)
    } catch .alreadyMapped { return .errno(.ebusy) } catch { return .errno(.enomem) }
    table.setPlace(ofFrame: i, gpfn)
    return .ok
}

/// 0 or a negated errno, for the helpers above.
enum ReturnValue {
    case ok
    case errno(XenABI.Errno)
    var returnValue: UInt64 {
        switch self {
        case .ok: return 0
        case .errno(let e): return e.returnValue
        }
    }
}
