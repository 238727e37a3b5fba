import CArch
import SwiftvisorCore

/// grant_table_op (20), version 1, as Xen 4.17 on Arm answers a domU (xen/common/grant_table.c):
/// each structure is read whole (-EFAULT if it cannot be), carried out by the core's state
/// machine, and its status (and outputs) written back.
@inline(never)
func grantTableOp(_ call: GrantTableABI.Call, argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> ExitOutcome {
    let f = vcpu.frame
    let cmd = call.command, n = call.count
    // `count` is an unsigned int Xen checks as an int; the bits above GNTTABOP_CMD_MASK (12)
    // are only cache_flush's continuation argument.
    guard Int32(bitPattern: n) >= 0,
          cmd & ~0xFFF == 0 || cmd & 0xFFF == UInt32(GrantTableABI.Operation.cacheFlush.rawValue) else {
        f.pointee.x.0 = XenABI.Errno.einval.returnValue
        return .resume
    }
    typealias Op = GrantTableABI.Operation
    let result: UInt64
    switch Op(rawValue: UInt64(cmd & 0xFFF)) {
    case .mapGrantRef: return batch(argument: argument, count: n, size: 32, vcpu, hv, mapOne)
    case .unmapGrantRef: return batch(argument: argument, count: n, size: 24, vcpu, hv, unmapOne)
    case .copy: return batch(argument: argument, count: n, size: 40, vcpu, hv, copyOne)
    case .setupTable: result = n == 1 ? setupTable(argument, vcpu, hv) : XenABI.Errno.einval.returnValue
    case .querySize: result = n == 1 ? querySize(argument, vcpu, hv) : XenABI.Errno.einval.returnValue
    case .unmapAndReplace: return batch(argument: argument, count: n, size: 24, vcpu, hv, unmapAndReplaceOne)
    case .swapGrantRef: return batch(argument: argument, count: n, size: 12, vcpu, hv, swapOne)
    case .getStatusFrames: result = n == 1 ? getStatusFrames(argument, vcpu, hv) : XenABI.Errno.einval.returnValue
    // Only PV guests may transfer pages (CONFIG_PV): Xen on Arm refuses the call.
    case .transfer: result = XenABI.Errno.eopnotsupp.returnValue
    case .setVersion: result = setVersion(argument, vcpu)
    case .getVersion: result = getVersion(argument, vcpu, hv)
    default: result = XenABI.Errno.enosys.returnValue
    }
    f.pointee.x.0 = result
    return .resume
}

/// A multicall entry is running: a sub-call may not continue itself by re-executing the HVC
/// (the multicall's own continuation does that), so it runs to the end. Guarded by the lock.
nonisolated(unsafe) var insideMulticall = false

/// Runs `one` on each of `count` structures of `size` bytes; -EFAULT stops the batch. After
/// `perExit` of them the rest continue as Xen's continuation: x1/x2 advanced, HVC again.
func batch(argument: UInt64, count: UInt32, size: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor,
           _ one: (inout [UInt8], VirtualCPU, Hypervisor) -> Void) -> ExitOutcome {
    let f = vcpu.frame
    let perExit: UInt32 = 64
    var i: UInt32 = 0
    while i < count {
        if i == perExit && !insideMulticall {
            f.pointee.x.1 = argument &+ UInt64(i) * size
            f.pointee.x.2 = UInt64(count - i)
            f.pointee.elr_el2 &-= 4
            return .reschedule
        }
        let at = argument &+ UInt64(i) * size
        var raw = [UInt8]()
        guard GuestMemory.read(at, length: size, vcpu: vcpu, { raw.append($0) }) else {
            f.pointee.x.0 = XenABI.Errno.efault.returnValue; return .resume
        }
        one(&raw, vcpu, hv)
        guard GuestMemory.write(at, bytes: raw, vcpu: vcpu) else { f.pointee.x.0 = XenABI.Errno.efault.returnValue; return .resume }
        i += 1
    }
    f.pointee.x.0 = 0
    return .resume
}

/// `struct gnttab_map_grant_ref`: host_addr 0, flags 8, ref 12, dom 16, status 18, handle 20, dev_bus_addr 24.
func mapOne(_ b: inout [UInt8], _ vcpu: VirtualCPU, _ hv: Hypervisor) {
    let request = GrantOperations.MapRequest(hostAddress: b.load64(0), flags: b.load32(8), ref: GrantReference(b.load32(12)),
                                             domid: b.load16(16))
    var stage2 = GrantStage2(vm: vcpu.vm)
    switch GrantOperations.map(request, mapper: vcpu.vm.domid, domains: { hv.grantTable($0) }, memory: GrantFrameMemory(),
                               backing: { hv.ownFrame($0, $1) }, stage2: &stage2) {
    case .success(let (handle, bus)):
        b.store16(18, UInt16(bitPattern: GrantStatus.okay.rawValue)); b.store32(20, handle.rawValue); b.store64(24, bus)
    case .failure(let status):
        b.store16(18, UInt16(bitPattern: status.rawValue))
    }
}

/// `struct gnttab_unmap_grant_ref`: host_addr 0, dev_bus_addr 8, handle 16, status 20.
func unmapOne(_ b: inout [UInt8], _ vcpu: VirtualCPU, _ hv: Hypervisor) {
    var stage2 = GrantStage2(vm: vcpu.vm)
    let status = GrantOperations.unmap(hostAddress: b.load64(0), handle: GrantHandle(b.load32(16)), mapper: vcpu.vm.domid,
                                       domains: { hv.grantTable($0) }, memory: GrantFrameMemory(), stage2: &stage2)
    b.store16(20, UInt16(bitPattern: status.rawValue))
}

/// `struct gnttab_unmap_and_replace`: host_addr 0, new_addr 8, handle 16, status 20. On Arm
/// only new_addr 0 (a plain unmap) can be done; another is GNTST_general_error (the handle
/// is checked first).
func unmapAndReplaceOne(_ b: inout [UInt8], _ vcpu: VirtualCPU, _ hv: Hypervisor) {
    if b.load64(0) != 0 && b.load64(8) != 0 {
        let known = vcpu.vm.grants.mapping(GrantHandle(b.load32(16))) != nil
        b.store16(20, UInt16(bitPattern: (known ? GrantStatus.generalError : .badHandle).rawValue))
        return
    }
    var stage2 = GrantStage2(vm: vcpu.vm)
    let status = GrantOperations.unmap(hostAddress: b.load64(0), handle: GrantHandle(b.load32(16)), mapper: vcpu.vm.domid,
                                       domains: { hv.grantTable($0) }, memory: GrantFrameMemory(), stage2: &stage2)
    b.store16(20, UInt16(bitPattern: status.rawValue))
}

/// `struct gnttab_swap_grant_ref`: ref_a 0, ref_b 4, status 8 (12 bytes).
func swapOne(_ b: inout [UInt8], _ vcpu: VirtualCPU, _ hv: Hypervisor) {
    let status = hv.grantTable(vcpu.vm.domid)?.swap(GrantReference(b.load32(0)), GrantReference(b.load32(4)),
                                                    memory: GrantFrameMemory()) ?? .generalError
    b.store16(8, UInt16(bitPattern: status.rawValue))
}

/// `struct gnttab_get_status_frames`: nr_frames 0, dom 4, status 6, frame_list 8. Version 1 has
/// no status frames: asking for any is GNTST_general_error, for none GNTST_okay.
func getStatusFrames(_ argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> UInt64 {
    var raw = [UInt8]()
    guard GuestMemory.read(argument, length: 16, vcpu: vcpu, { raw.append($0) }) else { return XenABI.Errno.efault.returnValue }
    var status = GrantStatus.okay
    switch ownTable(raw.load16(4), vcpu, hv) {
    case .failure(let s): status = s
    case .success: if raw.load32(0) > 0 { status = .generalError }
    }
    var s = [UInt8](repeating: 0, count: 2)
    s.store16(0, UInt16(bitPattern: status.rawValue))
    return GuestMemory.write(argument &+ 6, bytes: s, vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
}

/// `struct gnttab_copy`: source {u 0, domid 8, offset 10}, dest {u 16, domid 24, offset 26},
/// len 32, flags 34, status 36.
func copyOne(_ b: inout [UInt8], _ vcpu: VirtualCPU, _ hv: Hypervisor) {
    let request = GrantCopy.Request(source: .init(refOrFrame: b.load64(0), domid: b.load16(8), offset: b.load16(10)),
                                    dest: .init(refOrFrame: b.load64(16), domid: b.load16(24), offset: b.load16(26)),
                                    length: b.load16(32), flags: b.load16(34))
    let status = GrantCopy.perform(request, caller: vcpu.vm.domid, domains: { hv.grantTable($0) }, memory: GrantFrameMemory(),
                                   backing: { hv.ownFrame($0, $1) }) { to, from, length in
        // SAFETY: both are inside pages the core resolved (a live domain's populated RAM),
        // identity mapped; length and offsets were checked to stay within them.
        UnsafeMutableRawPointer(bitPattern: UInt(to.rawValue))!
            .copyMemory(from: UnsafeRawPointer(bitPattern: UInt(from.rawValue))!, byteCount: length)
    }
    b.store16(36, UInt16(bitPattern: status.rawValue))
}

/// The domain a setup_table/query_size names (any ID: DOMID_SELF is the caller): its table,
/// or the status (unknown: bad_domain; another domain: permission_denied, XSM_TARGET).
func ownTable(_ domid: UInt16, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> Result<GrantTable, GrantStatus> {
    guard let d = XenDomainID.resolve(domid, caller: vcpu.vm.domid), let vm = hv.vm(d), vm.state == .running else {
        return .failure(.badDomain)
    }
    guard vm === vcpu.vm, let table = hv.grantTable(d) else { return .failure(.permissionDenied) }
    return .success(table)
}

/// `struct gnttab_setup_table`: dom 0, nr_frames 4, status 8, frame_list 16. An auto-translated
/// guest learns where each frame is mapped in its own space (INVALID_GFN where it is not).
func setupTable(_ argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> UInt64 {
    var raw = [UInt8]()
    guard GuestMemory.read(argument, length: 24, vcpu: vcpu, { raw.append($0) }) else { return XenABI.Errno.efault.returnValue }
    let frames = raw.load32(4), list = raw.load64(16)
    var status = GrantStatus.okay
    switch ownTable(raw.load16(0), vcpu, hv) {
    case .failure(let s): status = s
    case .success(let table):
        if frames > UInt32(table.maxFrames) || !table.grow(to: Int(frames), allocate: { hv.allocateGrantFrame() }) {
            status = .generalError
            break
        }
        for i in 0..<Int(frames) {
            let gfn = table.frameGFNs[i]?.rawValue ?? GrantTableABI.invalidFrame
            var bytes = [UInt8](repeating: 0, count: 8)
            bytes.store64(0, gfn)
            if !GuestMemory.write(list &+ UInt64(i) * 8, bytes: bytes, vcpu: vcpu) { status = .badVirtAddr }
        }
    }
    var s = [UInt8](repeating: 0, count: 2)
    s.store16(0, UInt16(bitPattern: status.rawValue))
    return GuestMemory.write(argument &+ 8, bytes: s, vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
}

/// `struct gnttab_query_size`: dom 0, nr_frames 4, max_nr_frames 8, status 12 (16 bytes).
func querySize(_ argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> UInt64 {
    var raw = [UInt8]()
    guard GuestMemory.read(argument, length: 16, vcpu: vcpu, { raw.append($0) }) else { return XenABI.Errno.efault.returnValue }
    switch ownTable(raw.load16(0), vcpu, hv) {
    case .failure(let s): raw.store16(12, UInt16(bitPattern: s.rawValue))
    case .success(let table):
        raw.store32(4, UInt32(table.frameCount)); raw.store32(8, UInt32(table.maxFrames))
        raw.store16(12, UInt16(bitPattern: GrantStatus.okay.rawValue))
    }
    return GuestMemory.write(argument, bytes: raw, vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
}

/// `struct gnttab_set_version { uint32 version; }`: 1 is kept (0); 2 is -ENOSYS, as Xen does
/// where the maximum version is 1 (Arm); anything else -EINVAL. The current version, 1, is
/// written back in every case.
func setVersion(_ argument: UInt64, _ vcpu: VirtualCPU) -> UInt64 {
    guard let version = GuestMemory.read32(argument, vcpu: vcpu) else { return XenABI.Errno.efault.returnValue }
    let result: XenABI.Errno? = version == 1 ? nil : version == 2 ? .enosys : .einval
    var bytes = [UInt8](repeating: 0, count: 4)
    bytes.store32(0, GrantTableABI.version)
    guard GuestMemory.write(argument, bytes: bytes, vcpu: vcpu) else { return XenABI.Errno.efault.returnValue }
    return result?.returnValue ?? 0
}

/// `struct gnttab_get_version { domid_t dom; uint16 pad; uint32 version; }`: unknown domain
/// -ESRCH, another domain -EPERM (XSM_TARGET).
func getVersion(_ argument: UInt64, _ vcpu: VirtualCPU, _ hv: Hypervisor) -> UInt64 {
    var raw = [UInt8]()
    guard GuestMemory.read(argument, length: 8, vcpu: vcpu, { raw.append($0) }) else { return XenABI.Errno.efault.returnValue }
    guard let d = XenDomainID.resolve(raw.load16(0), caller: vcpu.vm.domid), let vm = hv.vm(d), vm.state == .running else {
        return XenABI.Errno.esrch.returnValue
    }
    guard vm === vcpu.vm else { return XenABI.Errno.eperm.returnValue }
    raw.store32(4, GrantTableABI.version)
    return GuestMemory.write(argument, bytes: raw, vcpu: vcpu) ? 0 : XenABI.Errno.efault.returnValue
}

/// Little-endian fields of a structure read from a guest.
extension Array where Element == UInt8 {
    func load16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    func load32(_ at: Int) -> UInt32 { UInt32(load16(at)) | UInt32(load16(at + 2)) << 16 }
    func load64(_ at: Int) -> UInt64 { UInt64(load32(at)) | UInt64(load32(at + 4)) << 32 }
    mutating func store16(_ at: Int, _ v: UInt16) { self[at] = UInt8(truncatingIfNeeded: v); self[at + 1] = UInt8(truncatingIfNeeded: v >> 8) }
    mutating func store32(_ at: Int, _ v: UInt32) { store16(at, UInt16(truncatingIfNeeded: v)); store16(at + 2, UInt16(truncatingIfNeeded: v >> 16)) }
    mutating func store64(_ at: Int, _ v: UInt64) { store32(at, UInt32(truncatingIfNeeded: v)); store32(at + 4, UInt32(truncatingIfNeeded: v >> 32)) }
}
