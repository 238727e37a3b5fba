import CGuest
import SwiftvisorCore

/// The attacker's own grant table (v1 entries in the grant window), event channels and
/// balloon, as a netfront drives them (xen/include/public/grant_table.h, event_channel.h,
/// memory.h).
enum Xen {
    static let selfID = UInt64(XenDomainID.selfID)
    static let grantWindow: UInt64 = XenGuestLayout.grantTableWindow.base.rawValue

    static func address<T>(_ p: UnsafeMutablePointer<T>) -> UInt64 { UInt64(UInt(bitPattern: p)) }
    static func buffer(_ words: Int) -> UnsafeMutablePointer<UInt64> {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        p.initialize(repeating: 0, count: words)
        return p
    }
    /// A fresh zeroed page of the guest's RAM (guest-physical = virtual here).
    static func page() -> UInt64 {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        return UInt64(UInt(bitPattern: p))
    }
    static func load32(_ a: UInt64) -> UInt32 { UnsafeMutablePointer<UInt32>(bitPattern: UInt(a))!.pointee }
    static func store32(_ a: UInt64, _ v: UInt32) { UnsafeMutablePointer<UInt32>(bitPattern: UInt(a))!.pointee = v; memory_barrier() }
    static func store16(_ a: UInt64, _ v: UInt16) { UnsafeMutablePointer<UInt16>(bitPattern: UInt(a))!.pointee = v }

    static func memoryOp(_ command: UInt64, _ argument: UInt64) -> Int64 { xen_hypercall(XenABI.Number.memoryOp.rawValue, command, argument, 0) }
    static func grantOp(_ op: GrantTableABI.Operation, _ argument: UInt64, count: UInt64 = 1) -> Int64 {
        xen_hypercall(XenABI.Number.grantTableOp.rawValue, op.rawValue, argument, count)
    }
    static func eventOp(_ command: UInt64, _ argument: UInt64) -> Int64 {
        xen_hypercall(XenABI.Number.eventChannelOp.rawValue, command, argument, 0)
    }

    /// XENMEM_add_to_physmap(XENMAPSPACE_shared_info or grant_table, index) at `gpfn`.
    static func addToPhysmap(space: UInt64, index: UInt64, gpfn: UInt64) -> Int64 {
        let x = buffer(3)
        x[0] = selfID | space << 32; x[1] = index; x[2] = gpfn
        return memoryOp(7, address(x))
    }
    /// XENMEM_decrease_reservation of one frame: extents done.
    static func balloonOut(_ frame: UInt64) -> Int64 {
        let list = buffer(1); list[0] = frame
        let r = buffer(4)
        r[0] = address(list); r[1] = 1; r[2] = 0; r[3] = selfID
        return memoryOp(1, address(r))
    }

    /// Writes grant entry `ref` (grant_entry_v1: flags, domid, frame), flags last.
    static func grant(_ ref: UInt64, to domid: UInt32, frame: UInt64, flags: UInt32 = 1) {
        store32(grantWindow + ref * 8 + 4, UInt32(frame >> 12))
        store32(grantWindow + ref * 8, flags | domid << 16)
    }
    /// Ends access the way a guest that does not care does: the entry's flags are cleared
    /// whether or not the grantee still uses it.
    static func revoke(_ ref: UInt64) { store32(grantWindow + ref * 8, 0) }

    /// EVTCHNOP_alloc_unbound(DOMID_SELF, remote): the port, or the error.
    static func allocUnbound(remote: UInt16) -> Int64 {
        var a: (UInt16, UInt16, UInt32) = (XenDomainID.selfID, remote, 0)
        let r = withUnsafeMutablePointer(to: &a) { eventOp(6, UInt64(UInt(bitPattern: $0))) }
        return r == 0 ? Int64(a.2) : r
    }
    /// EVTCHNOP_close.
    static func close(_ port: Int64) -> Int64 {
        var a: UInt32 = UInt32(truncatingIfNeeded: port)
        return withUnsafeMutablePointer(to: &a) { eventOp(3, UInt64(UInt(bitPattern: $0))) }
    }

    /// One grant operation's structure, reused (the heap never frees).
    nonisolated(unsafe) static let op = buffer(5)

    /// GNTTABOP_map_grant_ref(host_map) of `domid`'s `ref` at `place`: the status.
    static func map(ref: UInt64, of domid: UInt64, at place: UInt64, readOnly: Bool = false) -> Int64 {
        let m = op
        m[0] = place; m[1] = (readOnly ? 2 | 4 : 2) | ref << 32; m[2] = domid | 0xAAAA << 16
        let r = grantOp(.mapGrantRef, address(m))
        return r == 0 ? Int64(Int16(truncatingIfNeeded: m[2] >> 16)) : r
    }
    /// GNTTABOP_copy of 64 bytes from `domid`'s `ref` into own frame `frame`: the status.
    static func copy(fromRef ref: UInt64, of domid: UInt64, into frame: UInt64) -> Int64 {
        op[0] = ref; op[1] = domid; op[2] = frame; op[3] = selfID
        op[4] = 64 | 1 << 16 | 0x7777 << 32   // GNTCOPY_source_gref
        let r = grantOp(.copy, address(op))
        return r == 0 ? Int64(Int16(truncatingIfNeeded: op[4] >> 32)) : r
    }
    /// GNTTABOP_copy of 64 bytes from own frame into `domid`'s `ref`: the status.
    static func copy(intoRef ref: UInt64, of domid: UInt64, from frame: UInt64) -> Int64 {
        op[0] = frame; op[1] = selfID; op[2] = ref; op[3] = domid
        op[4] = 64 | 2 << 16 | 0x7777 << 32   // GNTCOPY_dest_gref
        let r = grantOp(.copy, address(op))
        return r == 0 ? Int64(Int16(truncatingIfNeeded: op[4] >> 32)) : r
    }
}
