import CArch
import SwiftvisorCore

// event_channel_op, memory_op (add_to_physmap of the shared_info), vcpu_op and the sched_op
// sub-ops that wait for events. Each reads its argument structure whole first (-EFAULT if it
// cannot), checks it as Xen 4.17 does, and writes back what Xen writes back.

private let efault = XenABI.Errno.efault.returnValue

/// Reads `length` bytes of the guest's argument at `va`.
private func readArgument(_ va: UInt64, _ length: UInt64, _ vcpu: VirtualCPU) -> [UInt8]? {
    var raw = [UInt8]()
    raw.reserveCapacity(Int(length))
    return GuestMemory.read(va, length: length, vcpu: vcpu, { raw.append($0) }) ? raw : nil
}

private func le64(_ b: [UInt8], _ at: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return v
}

/// event_channel_op(cmd, arg), 2-level ABI (xen/common/event_channel.c do_event_channel_op).
@inline(never)
func eventChannelOp(_ command: XenEventChannelOp.Command, argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> UInt64 {
    // The frequent one, `struct evtchn_send { evtchn_port_t port; }`: its one word read
    // directly, without building the argument array (a heap allocation per call).
    if case .send = command {
        guard let port = GuestMemory.read32(argument, vcpu: vcpu) else { return efault }
        switch XenGuest.channels.send(caller: vcpu.vm.domid, port: port) {
        case .failure(let e): return e.returnValue
        case .success(let delivery):
            if let delivery { sent(delivery, by: vcpu, hv) }
            return 0
        }
    }
    guard let raw = readArgument(argument, command.argumentSize, vcpu) else { return efault }
    var a = XenEventChannelOp.Argument(bytes: raw)
    let me = vcpu.vm.domid
    func writeBack() -> UInt64 { GuestMemory.write(argument, bytes: a.bytes, vcpu: vcpu) ? 0 : efault }
    switch command {
    case .allocUnbound:                 // { domid_t dom, remote_dom; evtchn_port_t port; }
        switch XenGuest.channels.allocUnbound(caller: me, dom: a.u16(0), remote: a.u16(2)) {
        case .failure(let e): return e.returnValue
        case .success(let port): a.set32(4, port); return writeBack()
        }
    case .bindInterdomain:              // { domid_t remote_dom; port remote_port; port local_port; }
        switch XenGuest.channels.bindInterdomain(caller: me, remoteDom: a.u16(0), remotePort: a.u32(4)) {
        case .failure(let e): return e.returnValue
        case .success(let bound):
            XenGuest.deliver(bound.delivery, hv)
            a.set32(8, bound.port)
            return writeBack()
        }
    case .bindVIRQ:                     // { uint32 virq, vcpu; port; }
        switch XenGuest.channels.bindVIRQ(caller: me, virq: a.u32(0), vcpu: a.u32(4)) {
        case .failure(let e): return e.returnValue
        case .success(let port): a.set32(8, port); return writeBack()
        }
    case .bindIPI:                      // { uint32 vcpu; port; }
        switch XenGuest.channels.bindIPI(caller: me, vcpu: a.u32(0)) {
        case .failure(let e): return e.returnValue
        case .success(let port): a.set32(4, port); return writeBack()
        }
    case .bindPIRQ:
        return XenABI.Errno.einval.returnValue   // an Arm domU has no PIRQs (nr_pirqs = 0)
    case .close:
        let port = a.u32(0)
        if let e = XenGuest.channels.close(caller: me, port: port) { return e.returnValue }
        // evtchn_free clears the pending bit, so a re-bound port starts clean.
        EventChannel2Level.clearPending(port, shared: SharedPage(base: vcpu.vm.xen.sharedInfo))
        return 0
    case .send:
        switch XenGuest.channels.send(caller: me, port: a.u32(0)) {
        case .failure(let e): return e.returnValue
        case .success(let delivery):
            if let delivery { sent(delivery, by: vcpu, hv) }
            return 0
        }
    case .status:                       // { domid_t dom; port; uint32 status, vcpu; union u; }
        switch XenGuest.channels.status(caller: me, dom: a.u16(0), port: a.u32(4)) {
        case .failure(let e): return e.returnValue
        case .success(let s): XenEventChannelOp.fill(&a, with: s); return writeBack()
        }
    case .bindVCPU:                     // { port; uint32 vcpu; }
        return XenGuest.channels.bindVCPU(caller: me, port: a.u32(0), vcpu: a.u32(4))?.returnValue ?? 0
    case .unmask:
        let port = a.u32(0)
        switch XenGuest.channels.unmaskTarget(caller: me, port: port) {
        case .failure(let e): return e.returnValue
        case .success(let target):
            let x = vcpu.vm.xen
            if EventChannel2Level.unmask(port, shared: SharedPage(base: x.sharedInfo),
                                         vcpuInfo: x.vcpuInfoAddress(target).map { SharedPage(base: $0) }) {
                VirtualInterrupts.raise(XenGuestLayout.eventChannelPPI, vm: vcpu.vm, vcpu: target, hv)
            }
            return 0
        }
    case .reset, .resetContinue:        // { domid_t dom; }
        switch XenGuest.channels.reset(caller: me, dom: a.u16(0), continuing: command == .resetContinue) {
        case .failure(let e): return e.returnValue
        case .success(let closed):
            let shared = SharedPage(base: vcpu.vm.xen.sharedInfo)
            for port in closed { EventChannel2Level.clearPending(port, shared: shared) }
            return 0
        }
    case .initControl, .expandArray:
        // The FIFO ABI is not offered: Xen built without CONFIG_EVTCHN_FIFO answers so, and
        // Linux then keeps the 2-level ABI.
        return XenABI.Errno.eopnotsupp.returnValue
    case .setPriority:                  // { port; uint32 priority; }: the 2-level ABI has no priorities
        guard XenGuest.channels.unmaskTarget(caller: me, port: a.u32(0)).isSuccess else { return XenABI.Errno.einval.returnValue }
        return XenABI.Errno.enosys.returnValue
    }
}

/// What a send delivers: a guest's port set pending, or the hypervisor's service (domain 0's
/// port) told that the guest signalled it.
@inline(__always)
private func sent(_ delivery: EventChannels.Delivery, by vcpu: VirtualCPU, _ hv: Hypervisor) {
    // (The raw 0, not XenDomainID.hypervisor: another module's static is an accessor call.)
    if delivery.domain.rawValue == 0 {
        if let service = EventChannels.Service(rawValue: delivery.port) { HypervisorServices.signalled(service, by: vcpu.vm, hv) }
    } else {
        XenGuest.deliver(delivery, hv)
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { return true } else { return false } }
}

/// XENMAPSPACE_shared_info (xen/arch/arm/mm.c xenmem_add_to_physmap_one): the guest's page at
/// `gpfn` becomes its shared_info, with what the shared_info held so far.
@inline(never)
func mapSharedInfo(_ r: XenMemoryOp.AddToPhysmap, _ vm: VirtualMachine) -> UInt64 {
    let x = vm.xen
    switch XenMemoryOp.sharedInfoPlacement(r, ram: vm.ram, mappedAt: x.sharedInfoFrame) {
    case .failure(let e): return e.returnValue
    case .success(let ipa):
        let host = vm.hostAddress(ipa)!.rawValue
        // SAFETY: both are whole pages: the hypervisor's own, and one of this VM's RAM.
        UnsafeMutableRawPointer(bitPattern: UInt(host))!
            .copyMemory(from: UnsafeRawPointer(bitPattern: UInt(x.sharedInfo))!, byteCount: Int(PageSize.granule))
        x.sharedInfo = host
        x.sharedInfoFrame = r.gpfn.rawValue
        return 0
    }
}

/// vcpu_op(cmd, vcpuid, arg) as Xen 4.17 on Arm (arch/arm/domain.c do_vcpu_op, common/domain.c).
@inline(never)
func vcpuOp(command raw: UInt32, vcpu id: UInt32, argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> UInt64 {
    let vm = vcpu.vm
    let command: XenVCPUOp.Command
    switch XenVCPUOp.check(command: raw, vcpu: id, vcpuCount: vm.vcpus.count) {
    case .failure(let e): return e.returnValue
    case .success(let c): command = c
    }
    let target = vm.vcpus[Int(id)], x = vm.xen, i = Int(id)
    switch command {
    case .registerVCPUInfo:             // { uint64 mfn; uint32 offset; uint32 rsvd; }
        guard let raw = readArgument(argument, XenVCPUOp.registerVCPUInfoSize, vcpu) else { return efault }
        let offset = UInt32(truncatingIfNeeded: le64(raw, 8))
        let selfOrDown = target === vcpu || hv.scheduler.states[target.slot] == .off
        switch XenVCPUOp.vcpuInfoPlacement(gfn: le64(raw, 0), offset: offset, alreadyRegistered: x.vcpuInfo[i] != nil,
                                           selfOrDown: selfOrDown, ram: vm.ram, isHole: { vm.reservation.isHole($0) }) {
        case .failure(let e): return e.returnValue
        case .success(let ipa):
            let host = vm.hostAddress(ipa)!.rawValue
            let size = Int(EventChannel2Level.vcpuInfoSize)
            // SAFETY: 48 bytes inside one page of this VM's RAM (checked), and the old vcpu_info.
            let to = UnsafeMutableRawPointer(bitPattern: UInt(host))!
            if let old = x.vcpuInfoAddress(i) {
                to.copyMemory(from: UnsafeRawPointer(bitPattern: UInt(old))!, byteCount: size)
            } else {
                to.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            }
            x.vcpuInfo[i] = host
            // "Mark everything as being pending just to make sure nothing gets lost."
            let info = SharedPage(base: host)
            dsb_ish()
            info.store(EventChannel2Level.pendingSelectorOffset, ~0)
            if EventChannel2Level.markEventsPending(info) {
                VirtualInterrupts.raise(XenGuestLayout.eventChannelPPI, vm: vm, vcpu: i, hv)
            }
            return 0
        }
    case .registerRunstateMemoryArea:   // { uint64 addr; }: a guest virtual address
        guard let raw = readArgument(argument, XenVCPUOp.registerRunstateSize, vcpu) else { return efault }
        x.runstateArea[i] = le64(raw, 0)
        XenGuest.startTrackingRunstate(vm, caller: vcpu, hv)
        if x.runstateArea[i] != 0 { XenGuest.writeRunstate(of: target, through: vcpu) }
        return 0
    }
}

/// SCHEDOP_poll: `struct sched_poll { evtchn_port_t *ports; unsigned int nr_ports; uint64_t timeout; }`.
/// Returns at once (0) if a port is pending; otherwise blocks until one of them (any port if
/// several) becomes pending, an interrupt wakes the vCPU, or system time reaches `timeout`.
@inline(never)
func poll(argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    guard let raw = readArgument(argument, 24, vcpu) else { f.pointee.x.0 = efault; return .resume }
    let ports = le64(raw, 0), count = le64(raw, 8) & 0xFFFF_FFFF, timeout = le64(raw, 16)
    guard count <= 128 else { f.pointee.x.0 = XenABI.Errno.einval.returnValue; return .resume }
    let vm = vcpu.vm, shared = SharedPage(base: vm.xen.sharedInfo)
    var last: UInt32 = 0
    for n in 0..<count {
        guard let p = GuestMemory.read32(ports &+ 4 &* n, vcpu: vcpu) else { f.pointee.x.0 = efault; return .resume }
        guard XenGuest.channels.notifyVCPU(vm.domid, port: p) != nil else {
            f.pointee.x.0 = XenABI.Errno.einval.returnValue
            return .resume
        }
        if EventChannel2Level.isPending(p, shared: shared) { f.pointee.x.0 = 0; return .resume }
        last = p
    }
    XenGuest.startPoll(vcpu, port: count == 1 ? Int64(last) : -1,
                       deadline: timeout == 0 ? nil : XenGuest.counter(atSystemTime: timeout))
    f.pointee.x.0 = 0
    hv.scheduler.block(vcpu.slot, now: read_cntpct_el0())
    if timeout != 0 { hv.runSoftwareTimers() }   // a timeout already past ends the poll at once
    return .reschedule
}

/// SCHEDOP_block: enables the guest's interrupts (PSTATE.I, as Xen's local_event_delivery_enable
/// on Arm) and sleeps until an interrupt is pending for the vCPU, at once if one is.
@inline(never)
func block(_ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    vcpu.frame.pointee.x.0 = 0
    vcpu.frame.pointee.spsr_el2 &= ~(1 << 7)   // SPSR_EL2.I (Arm ARM C5.2.18)
    if VirtualInterrupts.hasPending(vcpu) { return .resume }
    hv.scheduler.block(vcpu.slot, now: read_cntpct_el0())
    return .reschedule
}

/// SCHEDOP_shutdown_code: the reason a later shutdown reports, if none was set before.
@inline(never)
func shutdownCode(argument: UInt64, _ vcpu: VirtualCPU) -> UInt64 {
    guard let reason = GuestMemory.read32(argument, vcpu: vcpu) else { return efault }
    // Xen keeps it in a uint8_t.
    if vcpu.vm.xen.shutdownCode == nil { vcpu.vm.xen.shutdownCode = reason & 0xFF }
    return 0
}
