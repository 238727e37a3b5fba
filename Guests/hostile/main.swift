import CGuest
import SwiftvisorCore

/// A hostile guest and its victims (Tests/SystemTests/Systems/hostile.toml), all on one core:
/// `owner` (domain 1) grants pages and offers event-channel ports, some to `friend` (domain 2)
/// and two to `intruder` (domain 3); the intruder tries what a hostile domU would (other
/// domains' grants, guessed refs, ports offered to others, others' ports, resets, physmap
/// changes in other domains, its own shared_info / vcpu_info / runstate areas in awkward places
/// and then ballooned out, arguments crossing into unmapped pages, multicall batches, an event
/// flood at the owner). Each attempt must give Xen's answer; the victims then check that their
/// pages, grant entries and ports are as they left them, and that the owner kept its CPU.
/// Each prints "ok NAME" / "FAIL NAME"; the exit code is the number of failures.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    // EVTCHNOP_reset(self): the ports the toolstack bound to the hypervisor's services (store 1,
    // console 2) are closed, so that every port below is numbered from 1 as the checks expect.
    var reset: Args = (UInt32(selfID), 0, 0, 0, 0, 0)
    if evtchn(10, &reset) != 0 { Guest.print("EVTCHNOP_reset(self) failed") }
    if Guest.hasBootArgument("owner") { owner(&c) } else if Guest.hasBootArgument("friend") { friend(&c) } else { intruder(&c) }
    c.finish()
}

// Pages of the owner's RAM, and the refs it grants (both sides know them).
let friendPage: UInt64 = 0x4040_0000      // ref 10, read/write, to domain 2
let friendReadOnly: UInt64 = 0x4040_1000  // ref 11, read-only, to domain 2
let mailbox: UInt64 = 0x4040_2000         // ref 12 read-only to domain 2, ref 20 read-only to domain 3
let report: UInt64 = 0x4040_3000          // ref 21, read/write, to domain 3: where the intruder reports
let grantWindow: UInt64 = 0x3800_0000
let friendPattern: UInt64 = 0x4652_4945_4E44_2121
let readOnlyPattern: UInt64 = 0x524F_524F_524F_524F
let mailboxFill: UInt64 = 0x4D41_494C_424F_5821
let selfID = UInt64(XenDomainID.selfID)
let intruderDone: UInt64 = 0xD0_4E45
let floodSends: UInt64 = 100_000

func load(_ a: UInt64) -> UInt64 { UnsafeMutablePointer<UInt64>(bitPattern: UInt(a))!.pointee }
func store(_ a: UInt64, _ v: UInt64) { UnsafeMutablePointer<UInt64>(bitPattern: UInt(a))!.pointee = v; memory_barrier() }
func load32(_ a: UInt64) -> UInt32 { UnsafeMutablePointer<UInt32>(bitPattern: UInt(a))!.pointee }
func store32(_ a: UInt64, _ v: UInt32) { UnsafeMutablePointer<UInt32>(bitPattern: UInt(a))!.pointee = v; memory_barrier() }
func buffer(_ words: Int) -> UnsafeMutablePointer<UInt64> {
    let p = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
    p.initialize(repeating: 0, count: words)
    return p
}
func address<T>(_ p: UnsafeMutablePointer<T>) -> UInt64 { UInt64(UInt(bitPattern: p)) }
func status16(_ v: UInt64) -> Int64 { Int64(Int16(truncatingIfNeeded: v)) }

func memoryOp(_ command: UInt64, _ argument: UInt64) -> Int64 { xen_hypercall(XenABI.Number.memoryOp.rawValue, command, argument, 0) }
func grantOp(_ op: GrantTableABI.Operation, _ argument: UInt64, count: UInt64 = 1) -> Int64 {
    xen_hypercall(XenABI.Number.grantTableOp.rawValue, op.rawValue, argument, count)
}
func addToPhysmap(domid: UInt64 = selfID, space: UInt64, index: UInt64 = 0, gpfn: UInt64) -> Int64 {
    let x = buffer(3)
    x[0] = domid | space << 32; x[1] = index; x[2] = gpfn
    return memoryOp(7, address(x))
}
/// XENMEM_decrease_reservation (1) or populate_physmap (6) of `frames`.
func reservation(_ command: UInt64, _ frames: [UInt64], domid: UInt64 = selfID) -> Int64 {
    let list = buffer(frames.count)
    for (i, f) in frames.enumerated() { list[i] = f }
    let r = buffer(4)
    r[0] = address(list); r[1] = UInt64(frames.count); r[2] = 0; r[3] = domid
    return memoryOp(command, address(r))
}

/// event_channel_op(cmd) on six little-endian u32 words.
typealias Args = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
func evtchn(_ cmd: UInt64, _ a: inout Args) -> Int64 {
    withUnsafeMutablePointer(to: &a) { xen_hypercall(XenABI.Number.eventChannelOp.rawValue, cmd, UInt64(UInt(bitPattern: $0)), 0) }
}
func allocUnbound(remote: UInt64, dom: UInt64 = selfID) -> (Int64, UInt64) {
    var a: Args = (UInt32(dom) | UInt32(remote) << 16, 0, 0, 0, 0, 0); let r = evtchn(6, &a); return (r, UInt64(a.1))
}
func bindInterdomain(_ dom: UInt64, _ port: UInt64) -> (Int64, UInt64) {
    var a: Args = (UInt32(dom), UInt32(port), 0, 0, 0, 0); let r = evtchn(0, &a); return (r, UInt64(a.2))
}
func portOp(_ cmd: UInt64, _ port: UInt64, _ second: UInt32 = 0) -> Int64 { var a: Args = (UInt32(port), second, 0, 0, 0, 0); return evtchn(cmd, &a) }
/// EVTCHNOP_status: (result, state, first word of u).
func portStatus(_ dom: UInt64, _ port: UInt64) -> (Int64, UInt32, UInt32) {
    var a: Args = (UInt32(dom), UInt32(port), 0, 0, 0, 0); let r = evtchn(5, &a); return (r, a.2, a.4)
}

/// GNTTABOP_copy of `length` bytes; returns the op's status (or the call's errno).
let copyOp = buffer(5)
func copy(source: (UInt64, UInt64, UInt64), dest: (UInt64, UInt64, UInt64), length: UInt64, flags: UInt64) -> Int64 {
    copyOp[0] = source.0; copyOp[1] = source.1 | source.2 << 16; copyOp[2] = dest.0; copyOp[3] = dest.1 | dest.2 << 16
    copyOp[4] = length | flags << 16 | 0x7777 << 32
    let r = grantOp(.copy, address(copyOp))
    return r == 0 ? status16(copyOp[4] >> 32) : r
}
/// map_grant_ref of domain 1's `ref` at `place`: (status, handle).
func mapGrant(ref: UInt64, at place: UInt64, flags: UInt64 = 2, of domid: UInt64 = 1) -> (Int64, UInt64) {
    let m = buffer(4)
    m[0] = place; m[1] = flags | ref << 32; m[2] = domid
    let r = grantOp(.mapGrantRef, address(m))
    return r == 0 ? (status16(m[2] >> 16), m[2] >> 32) : (r, 0)
}
func unmapGrant(_ handle: UInt64, at place: UInt64) -> Int64 {
    let u = buffer(3)
    u[0] = place; u[2] = handle
    let r = grantOp(.unmapGrantRef, address(u))
    return r == 0 ? status16(u[2] >> 32) : r
}
/// Reads a word of the owner's mailbox through ref `ref` (GNTTABOP_copy into own RAM).
func readMailbox(ref: UInt64, word: UInt64, into scratch: UInt64) -> UInt64? {
    copy(source: (ref, 1, word * 8), dest: (scratch >> 12, selfID, 0), length: 8, flags: 1) == 0 ? shared_load64(scratch) : nil
}
func waitUntil(_ limit: Int = 4_000_000, _ done: () -> Bool) -> Bool {
    for _ in 0..<limit { if done() { return true }; Guest.yield() }
    return false
}

// MARK: domain 1, the owner

func owner(_ c: inout Checks) {
    let sharedInfo = UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)))
    c.expect("add_to_physmap(shared_info)", addToPhysmap(space: 0, gpfn: sharedInfo >> 12), 0)
    c.expect("add_to_physmap(grant_table, 0) at the grant window", addToPhysmap(space: 1, gpfn: grantWindow >> 12), 0)
    store(friendPage, friendPattern)
    store(friendReadOnly, readOnlyPattern)
    for w in 0..<UInt64(512) { store(mailbox + w * 8, mailboxFill &+ w) }
    for w in 0..<UInt64(512) { store(report + w * 8, 0) }
    store(mailbox, 0)
    func grant(_ ref: UInt64, flags: UInt32, to domid: UInt32, frame: UInt64) {
        store32(grantWindow + ref * 8 + 4, UInt32(frame >> 12))
        store32(grantWindow + ref * 8, flags | domid << 16)
    }
    grant(10, flags: 1, to: 2, frame: friendPage)
    grant(11, flags: 1 | 4, to: 2, frame: friendReadOnly)
    grant(12, flags: 1 | 4, to: 2, frame: mailbox)
    grant(20, flags: 1 | 4, to: 3, frame: mailbox)
    grant(21, flags: 1, to: 3, frame: report)
    let (r1, forFriend) = allocUnbound(remote: 2)
    let (r2, forIntruder) = allocUnbound(remote: 3)
    let (r3, loop) = allocUnbound(remote: selfID)
    let (r4, loopBound) = bindInterdomain(selfID, loop)
    c.expect("ports 1 (for domain 2), 2 (for domain 3), 3 and 4 (to itself)",
             r1 == 0 && r2 == 0 && r3 == 0 && r4 == 0 && forFriend == 1 && forIntruder == 2 && loop == 3 && loopBound == 4)
    _ = shared_fetch_and64(sharedInfo + 48, 0)
    store(mailbox, 1)   // ready

    // Busy while the intruder attacks: the owner must keep getting its CPU (one core for all).
    var work: UInt64 = 0
    let finished = waitUntil { work += 1; return shared_load64(report) == intruderDone }
    c.expect("the intruder finished while the owner kept running", finished && work > 10)
    Guest.print("owner ran \(work) rounds of its loop during the attack; the intruder reported \(load(report + 8)) failure(s)")
    c.expect("the intruder's flood reached port 2", shared_load64(sharedInfo + 48) & (1 << 2) != 0)

    c.expectWord("the friend's page is intact", load(friendPage), friendPattern)
    c.expectWord("the read-only page is intact", load(friendReadOnly), readOnlyPattern)
    var intact = true
    for w in 1..<UInt64(512) where load(mailbox + w * 8) != mailboxFill &+ w { intact = false }
    c.expect("the mailbox page (read-only to the intruder) is intact", intact)
    for w in 2..<UInt64(512) where load(report + w * 8) != 0 { intact = false }
    c.expect("the report page holds only what the intruder copied into its first words", intact)
    c.expect("grant entries 10 and 11: unchanged, never in use",
             load32(grantWindow + 80) == 1 | 2 << 16 && load32(grantWindow + 88) == 1 | 4 | 2 << 16)
    c.expect("grant entries 20 and 21 no longer in use", (load32(grantWindow + 160) | load32(grantWindow + 168)) & 0x18 == 0)
    let s1 = portStatus(selfID, forFriend), s3 = portStatus(selfID, loop), s4 = portStatus(selfID, loopBound)
    c.expect("port 1 still unbound, offered to domain 2", s1.0 == 0 && s1.1 == 1 && s1.2 & 0xFFFF == 2)
    c.expect("ports 3 and 4 still bound to each other", s3.1 == 2 && s4.1 == 2)
    c.expect("a send on port 4 still arrives on port 3", portOp(4, loopBound) == 0 && shared_load64(sharedInfo + 48) & (1 << 3) != 0)

    store(mailbox + 8, 2)   // the friend's turn
    // (The friend's own checks say it bound port 1; its shutdown closes that binding again.)
    c.expect("the friend wrote through ref 10", waitUntil { shared_load64(friendPage + 8) == 0xF00D })
}

// MARK: domain 2, the friend

func friend(_ c: inout Checks) {
    let scratch: UInt64 = 0x4050_0000
    c.expect("the owner lets the friend in (its mailbox says 2)", waitUntil { readMailbox(ref: 12, word: 1, into: scratch) == 2 })
    let (bound, _) = bindInterdomain(1, 1)
    c.expect("bind_interdomain to the port offered to it -> 0 (the intruder did not take it)", bound, 0)
    c.expect("copy from ref 10 -> 0", copy(source: (10, 1, 0), dest: (scratch >> 12, selfID, 0), length: 8, flags: 1), 0)
    c.expectWord("ref 10 holds the owner's data", load(scratch), friendPattern)
    c.expect("copy from ref 11 -> 0", copy(source: (11, 1, 0), dest: (scratch >> 12, selfID, 0), length: 8, flags: 1), 0)
    c.expectWord("ref 11 holds the owner's data", load(scratch), readOnlyPattern)
    store(scratch, 0xF00D)
    c.expect("copy into ref 10 -> 0", copy(source: (scratch >> 12, selfID, 0), dest: (10, 1, 8), length: 8, flags: 2), 0)
}

// MARK: domain 3, the intruder

func intruder(_ c: inout Checks) {
    let scratch: UInt64 = 0x4050_0000, hole: UInt64 = 0x4051_0000
    let ramEnd = 0x4000_0000 + Guest.memoryBytes
    c.expect("the owner is ready (read through ref 20)", waitUntil { readMailbox(ref: 20, word: 0, into: scratch) == 1 })

    // Grants meant for another domain, guessed refs, read-only ones written.
    c.expect("copy from ref 10 (granted to domain 2) -> GNTST_general_error",
             copy(source: (10, 1, 0), dest: (scratch >> 12, selfID, 0), length: 8, flags: 1), -1)
    c.expect("copy into ref 11 (read-only, to domain 2) -> GNTST_general_error",
             copy(source: (scratch >> 12, selfID, 0), dest: (11, 1, 0), length: 8, flags: 2), -1)
    c.expect("copy into ref 20 (read-only to it) -> GNTST_general_error",
             copy(source: (scratch >> 12, selfID, 0), dest: (20, 1, 8), length: 8, flags: 2), -1)
    c.expect("copy from domain 1's frame by number -> GNTST_permission_denied",
             copy(source: (friendPage >> 12, 1, 0), dest: (scratch >> 12, selfID, 0), length: 8, flags: 0), -8)
    c.expect("copy into domain 2's frame by number -> GNTST_permission_denied",
             copy(source: (scratch >> 12, selfID, 0), dest: (0x40500, 2, 0), length: 8, flags: 0), -8)
    var readable: [UInt64] = []
    for ref in 0..<UInt64(512) where copy(source: (ref, 1, 0), dest: (scratch >> 12, selfID, 0), length: 8, flags: 1) == 0 { readable.append(ref) }
    c.expect("guessing refs 0-511: only 20 and 21 (granted to it) can be read", readable == [20, 21])
    c.expect("ref 512 (one frame: refs 0-511) -> GNTST_bad_gntref",
             copy(source: (512, 1, 0), dest: (scratch >> 12, selfID, 0), length: 8, flags: 1), -3)
    c.expect("copy from domain 9 -> GNTST_bad_domain", copy(source: (20, 9, 0), dest: (scratch >> 12, selfID, 0), length: 8, flags: 1), -2)
    c.expect("copy from ref 20 into a page past its RAM -> GNTST_bad_page",
             copy(source: (20, 1, 0), dest: (ramEnd >> 12, selfID, 0), length: 8, flags: 1), -9)
    c.expect("decrease_reservation of a hole-to-be", reservation(1, [hole >> 12, hole >> 12 + 1]), 2)
    c.expect("map ref 10 (to domain 2) -> GNTST_general_error", mapGrant(ref: 10, at: hole).0, -1)
    c.expect("writable map of ref 20 (read-only) -> GNTST_general_error", mapGrant(ref: 20, at: hole).0, -1)
    let (mapped, handle) = mapGrant(ref: 20, at: hole, flags: 2 | 4)
    c.expect("map ref 20 read-only -> 0", mapped, 0)
    c.expect("writing the read-only mapping: a data abort", Guest.probe { probe_write64(hole + 8, 0xBAD) }.map { $0 >> 26 == 0x24 || $0 >> 26 == 0x25 } ?? false)
    // Hypercall buffers in the grant-mapped page: the hypervisor must not write there.
    c.expect("an event_channel_op buffer in a read-only grant mapping -> -EFAULT", xen_hypercall(XenABI.Number.eventChannelOp.rawValue, 6, hole, 0), -14)
    // vCPU 1's vcpu_info in the grant mapping: another domain's page, refused (the hypervisor
    // would otherwise write the vcpu_info somewhere the guest was given read-only, or not at all).
    let vi = buffer(2)
    vi[0] = hole >> 12; vi[1] = 0
    c.expect("register_vcpu_info(vCPU 1) in a read-only grant mapping -> -EINVAL",
             xen_hypercall(XenABI.Number.vcpuOp.rawValue, 10, 1, address(vi)), -22)
    // Its runstate area straddling its own page and the read-only mapping: written at every
    // switch, it must never reach the owner's page.
    store(hole - 8, 0x5A5A)
    var straddle = hole - 24
    c.expect("register_runstate_memory_area straddling into the read-only mapping -> 0",
             withUnsafeMutablePointer(to: &straddle) { xen_hypercall(XenABI.Number.vcpuOp.rawValue, 5, 0, UInt64(UInt(bitPattern: $0))) }, 0)
    for _ in 0..<20 { Guest.yield() }
    c.expect("the owner's page through the mapping: unchanged after 20 switches",
             shared_load64(hole) == 1 && shared_load64(hole + 8) == mailboxFill &+ 1 && shared_load64(hole + 16) == mailboxFill &+ 2)
    c.expectWord("and its own half was not written either (all or nothing)", shared_load64(hole - 8), 0x5A5A)
    c.expect("unmap it -> 0", unmapGrant(handle, at: hole), 0)
    c.expect("register_vcpu_info(vCPU 0) in a ballooned-out page -> -EINVAL, as Xen",
             xen_hypercall(XenABI.Number.vcpuOp.rawValue, 10, 0, address(vi)), -22)
    let q = buffer(2)
    q[0] = 1
    c.expect("query_size of domain 1: GNTST_permission_denied", grantOp(.querySize, address(q)) == 0 && status16(q[1] >> 32) == -8)
    let setup = buffer(3), frames = buffer(1)
    setup[0] = 1 | 1 << 32; setup[2] = address(frames)
    c.expect("setup_table of domain 1: refused", grantOp(.setupTable, address(setup)) != 0 || status16(setup[1]) != 0)

    // Memory of another domain.
    c.expect("add_to_physmap(shared_info) into domain 1 -> -EPERM", addToPhysmap(domid: 1, space: 0, gpfn: 0x40700), -1)
    c.expect("add_to_physmap(grant_table) into domain 1 -> -EPERM", addToPhysmap(domid: 1, space: 1, gpfn: 0x38001), -1)
    c.expect("decrease_reservation in domain 1 -> 0 done", reservation(1, [friendPage >> 12, mailbox >> 12], domid: 1), 0)
    c.expect("populate_physmap in domain 1 -> 0 done", reservation(6, [friendPage >> 12], domid: 1), 0)
    let cur = buffer(1)
    cur[0] = 1
    c.expect("current_reservation of domain 1 -> -EPERM", memoryOp(3, address(cur)), -1)

    // Ports offered to another domain, or the owner's own.
    c.expect("bind_interdomain to domain 1's port offered to domain 2 -> -EINVAL", bindInterdomain(1, 1).0, -22)
    c.expect("bind_interdomain to domain 1's bound port 3 -> -EINVAL", bindInterdomain(1, 3).0, -22)
    c.expect("bind_interdomain to domain 1's free port 9 -> -EINVAL", bindInterdomain(1, 9).0, -22)
    c.expect("bind_interdomain to a port of domain 2 it never offered -> -EINVAL", bindInterdomain(2, 1).0, -22)
    c.expect("bind_interdomain to domain 7 -> -ESRCH", bindInterdomain(7, 1).0, -3)
    c.expect("send on port 4 (the owner's number, not its own) -> -EINVAL", portOp(4, 4), -22)
    c.expect("close port 3 -> -EINVAL", portOp(3, 3), -22)
    c.expect("bind_vcpu of port 3 -> -EINVAL", portOp(8, 3), -22)
    c.expect("unmask of port 5000 -> -EINVAL", portOp(9, 5000), -22)
    c.expect("status of domain 1's port 1 -> -EPERM", portStatus(1, 1).0, -1)
    c.expect("status of domain 2's port 1 -> -EPERM", portStatus(2, 1).0, -1)
    var reset: Args = (1, 0, 0, 0, 0, 0)
    c.expect("reset of domain 1 -> -EPERM", evtchn(10, &reset), -1)
    c.expect("alloc_unbound in domain 1 -> -EPERM", allocUnbound(remote: 3, dom: 1).0, -1)
    c.expect("an event_channel_op argument crossing the end of RAM -> -EFAULT",
             xen_hypercall(XenABI.Number.eventChannelOp.rawValue, 5, ramEnd - 4, 0), -14)
    let grantAtEnd = ramEnd - 16   // a 24-byte gnttab_map_grant_ref... of 32 bytes, half outside
    c.expect("a grant_table_op argument crossing the end of RAM -> -EFAULT", grantOp(.mapGrantRef, grantAtEnd), -14)

    // Counts far beyond the buffer: the calls stop at the first entry they cannot read.
    let copyAt = ramEnd - 40   // one 40-byte gnttab_copy, the last in RAM
    let lastOp = UnsafeMutablePointer<UInt64>(bitPattern: UInt(copyAt))!
    lastOp[0] = 20; lastOp[1] = 1; lastOp[2] = scratch >> 12; lastOp[3] = selfID; lastOp[4] = 8 | 1 << 16
    c.expect("GNTTABOP_copy with count 2^31-1, the second op past RAM -> -EFAULT",
             grantOp(.copy, copyAt, count: 0x7FFF_FFFF), -14)
    c.expect("the first op was done", status16(lastOp[4] >> 32) == 0 && shared_load64(scratch) == 1)
    let entryAt = ramEnd - 64   // one 64-byte multicall_entry, the last in RAM
    let entry = UnsafeMutablePointer<UInt64>(bitPattern: UInt(entryAt))!
    for i in 0..<8 { entry[i] = 0 }
    entry[0] = XenABI.Number.xenVersion.rawValue
    c.expect("multicall of 2^31-1 entries, the second past RAM -> -EFAULT",
             xen_hypercall(XenABI.Number.multicall.rawValue, entryAt, 0x7FFF_FFFF, 0), -14)
    c.expect("the first entry ran (xen_version 4.17)", entry[1] == 0x4_0011)

    // Its grant frame on a page of its RAM, then given back: the page comes back zeroed.
    c.expect("add_to_physmap(grant_table, 0) on it -> 0", addToPhysmap(space: 1, gpfn: hole >> 12 + 1), 0)
    store32(hole + 0x1000 + 8 * 5 + 4, UInt32(scratch >> 12)); store32(hole + 0x1000 + 8 * 5, 1 | 1 << 16)   // ref 5 to domain 1
    c.expect("decrease_reservation of its grant frame -> 1", reservation(1, [hole >> 12 + 1]), 1)
    c.expect("the grant frame's place faults", Guest.probe { _ = probe_read64(hole + 0x1000) } != nil)
    c.expect("populate_physmap there -> 1", reservation(6, [hole >> 12 + 1]), 1)
    c.expect("the page there is its own, zeroed (not the grant frame)", shared_load64(hole + 0x1000 + 40) == 0)
    c.expect("the grant frame again at the window -> 0", addToPhysmap(space: 1, gpfn: grantWindow >> 12), 0)
    c.expect("and it kept its entries", load32(grantWindow + 40) == 1 | 1 << 16)

    // A multicall of the same: every entry gets its own answer, the batch goes on.
    let statusArgs = buffer(2)
    statusArgs[0] = 1 | 1 << 32
    let resetArgs = buffer(1)
    resetArgs[0] = 1
    let list = buffer(24)
    list[0] = XenABI.Number.eventChannelOp.rawValue; list[2] = 5; list[3] = address(statusArgs)
    list[8] = XenABI.Number.eventChannelOp.rawValue; list[10] = 10; list[11] = address(resetArgs)
    list[16] = XenABI.Number.memoryOp.rawValue; list[18] = 3; list[19] = address(cur)
    c.expect("multicall of three refused calls -> 0", xen_hypercall(XenABI.Number.multicall.rawValue, address(list), 3, 0), 0)
    c.expect("multicall: status -> -EPERM, reset -> -EPERM, current_reservation -> -EPERM",
             Int64(bitPattern: list[1]) == -1 && Int64(bitPattern: list[9]) == -1 && Int64(bitPattern: list[17]) == -1)

    // Its own shared_info on its last page, vcpu_info and runstate then ballooned out.
    let last = ramEnd - 4096, info = ramEnd - 8192
    c.expect("add_to_physmap(shared_info) on the last page of RAM -> 0", addToPhysmap(space: 0, gpfn: last >> 12), 0)
    vi[0] = info >> 12; vi[1] = 0
    c.expect("register_vcpu_info on the page before it -> 0", xen_hypercall(XenABI.Number.vcpuOp.rawValue, 10, 0, address(vi)), 0)
    var area = ramEnd - 24   // a 48-byte vcpu_runstate_info, half past the end of RAM
    c.expect("register_runstate_memory_area across the end of RAM -> 0 (Xen checks it only when it writes)",
             withUnsafeMutablePointer(to: &area) { xen_hypercall(XenABI.Number.vcpuOp.rawValue, 5, 0, UInt64(UInt(bitPattern: $0))) }, 0)
    Guest.yield()
    let (ra, loop) = allocUnbound(remote: selfID)
    let (rb, loopBound) = bindInterdomain(selfID, loop)
    c.expect("an own port pair", ra == 0 && rb == 0)
    c.expect("decrease_reservation of its shared_info and vcpu_info pages -> 2", reservation(1, [last >> 12, info >> 12]), 2)
    for _ in 0..<100 { _ = portOp(4, loopBound); Guest.yield() }
    c.expect("events and switches with those pages gone: still running", portOp(4, loop), 0)
    c.expect("they fault when read", Guest.probe { _ = probe_read64(last) } != nil && Guest.probe { _ = probe_read64(info) } != nil)
    // The owner's read-only page mapped where its shared_info was: events must not land in it.
    let (overInfo, overHandle) = mapGrant(ref: 20, at: last, flags: 2 | 4)
    c.expect("map ref 20 read-only over the ballooned-out shared_info -> 0", overInfo, 0)
    var bvcpu: Args = (UInt32(loop), 1, 0, 0, 0, 0)
    c.expect("bind_vcpu of its port to vCPU 1 -> 0", evtchn(8, &bvcpu), 0)
    for _ in 0..<100 { _ = portOp(4, loopBound); Guest.yield() }
    c.expectWord("the grant mapped there shows the owner's data, no pending bits", load(last + 48), mailboxFill &+ 6)
    c.expect("unmap it -> 0", unmapGrant(overHandle, at: last), 0)
    c.expect("populate_physmap gives them back -> 2", reservation(6, [last >> 12, info >> 12]), 2)

    // The flood: port 2 was offered to it by the owner.
    let (rf, flood) = bindInterdomain(1, 2)
    c.expect("bind_interdomain to the port offered to it -> 0", rf, 0)
    var sent: UInt64 = 0
    for _ in 0..<floodSends where portOp(4, flood) == 0 { sent += 1 }
    c.expect("100000 sends at the owner -> 0 each", sent == floodSends)
    c.expect("closing the flood port -> 0", portOp(3, flood), 0)

    // Report through ref 21 (read/write to it): failures, then done.
    store(scratch, UInt64(c.failures))
    _ = copy(source: (scratch >> 12, selfID, 0), dest: (21, 1, 8), length: 8, flags: 2)
    store(scratch, intruderDone)
    c.expect("report done through ref 21 -> 0", copy(source: (scratch >> 12, selfID, 0), dest: (21, 1, 0), length: 8, flags: 2), 0)
}

extension Checks {
    mutating func expectWord(_ name: StaticString, _ got: UInt64, _ want: UInt64) {
        expect(name, Int64(bitPattern: got), Int64(bitPattern: want))
    }
}
