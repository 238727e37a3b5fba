import CGuest
import SwiftvisorCore

/// A grant-table pair (Tests/SystemTests/Systems/grants.toml): the guest with `granter` in its
/// command line (domain 1) grants pages of its RAM to domain 2; the one with `grantee` balloons
/// pages out, maps the grants there, reads, writes, copies, unmaps, and tries everything that
/// must fail. They meet through a mailbox page granted by the granter (polling, no events).
/// With `rebooter` / `watcher` instead, domain 1 reboots while domain 2 maps its page: the
/// mapping must show domain 2's own zeroed page before the rebooted domain's RAM is zeroed and
/// reused, and stay until domain 2 unmaps it.
/// Each prints "ok NAME" / "FAIL NAME"; the exit code is the number of failures.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    if Guest.hasBootArgument("rebooter") { rebooter(&c) }
    else if Guest.hasBootArgument("watcher") { watcher(&c) }
    else if Guest.hasBootArgument("granter") { granter(&c) } else { grantee(&c) }
    c.finish()
}

// Pages of the granter's RAM it grants (by the same ref numbers both sides know).
let grantedPage: UInt64 = 0x4040_0000      // ref 10, read/write, to domain 2
let readOnlyPage: UInt64 = 0x4040_1000     // ref 11, read-only, to domain 2
let mailboxPage: UInt64 = 0x4040_3000      // ref 13, read/write, to domain 2: the meeting place
let grantWindow: UInt64 = 0x3800_0000      // XenGuestLayout.grantTableWindow: grant frame 0
let pattern: UInt64 = 0x4752_414E_5445_4421   // "!DETNARG"
let readOnlyPattern: UInt64 = 0x524F_524F_524F_524F
let selfID = UInt64(XenDomainID.selfID)

func load(_ a: UInt64) -> UInt64 { UnsafeMutablePointer<UInt64>(bitPattern: UInt(a))!.pointee }
func store(_ a: UInt64, _ v: UInt64) { UnsafeMutablePointer<UInt64>(bitPattern: UInt(a))!.pointee = v; memory_barrier() }
func load32(_ a: UInt64) -> UInt32 { UnsafeMutablePointer<UInt32>(bitPattern: UInt(a))!.pointee }
func store32(_ a: UInt64, _ v: UInt32) { UnsafeMutablePointer<UInt32>(bitPattern: UInt(a))!.pointee = v; memory_barrier() }

/// A scratch buffer in own RAM for a hypercall's structure.
func buffer(_ words: Int) -> UnsafeMutablePointer<UInt64> {
    let p = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
    p.initialize(repeating: 0, count: words)
    return p
}
func address<T>(_ p: UnsafeMutablePointer<T>) -> UInt64 { UInt64(UInt(bitPattern: p)) }

func memoryOp(_ command: UInt64, _ argument: UInt64) -> Int64 { xen_hypercall(XenABI.Number.memoryOp.rawValue, command, argument, 0) }
func grantOp(_ op: GrantTableABI.Operation, _ argument: UInt64, count: UInt64 = 1) -> Int64 {
    xen_hypercall(XenABI.Number.grantTableOp.rawValue, op.rawValue, argument, count)
}

/// XENMEM_decrease_reservation (1) or populate_physmap (6) of `frames`, extent order `order`.
func reservation(_ command: UInt64, _ frames: [UInt64], order: UInt64 = 0, domid: UInt64 = selfID) -> Int64 {
    let list = buffer(frames.count)
    for (i, f) in frames.enumerated() { list[i] = f }
    let r = buffer(4)
    r[0] = address(list); r[1] = UInt64(frames.count); r[2] = order; r[3] = domid
    return memoryOp(command, address(r))
}

func addToPhysmap(domid: UInt64 = selfID, space: UInt64, index: UInt64, gpfn: UInt64) -> Int64 {
    let x = buffer(3)
    x[0] = domid | space << 32; x[1] = index; x[2] = gpfn
    return memoryOp(7, address(x))
}

/// Polls `word` of the mailbox until it holds `value`, yielding; false after too long.
func wait(_ at: UInt64, for value: UInt64) -> Bool {
    for _ in 0..<2_000_000 {
        if load(at) == value { return true }
        Guest.yield()
    }
    return false
}

// MARK: domain 1

func granter(_ c: inout Checks) {
    c.expect("add_to_physmap(grant_table, 0) at the grant window", addToPhysmap(space: 1, index: 0, gpfn: grantWindow >> 12), 0)
    c.expect("add_to_physmap of a frame mapped elsewhere -> -EBUSY", addToPhysmap(space: 1, index: 0, gpfn: grantWindow >> 12 + 1), -16)
    c.expect("add_to_physmap(grant_table, 64) -> -EINVAL", addToPhysmap(space: 1, index: 64, gpfn: grantWindow >> 12 + 1), -22)
    c.expect("add_to_physmap(XENMAPIDX_grant_table_status) -> -EINVAL",
             addToPhysmap(space: 1, index: 0x8000_0000, gpfn: grantWindow >> 12 + 1), -22)
    c.expect("add_to_physmap over populated RAM -> -EBUSY", addToPhysmap(space: 1, index: 1, gpfn: 0x40500), -16)
    c.expect("add_to_physmap outside RAM and the grant window -> -EINVAL", addToPhysmap(space: 1, index: 1, gpfn: 0x50000), -22)
    c.expect("add_to_physmap(gmfn) -> -ENOSYS", addToPhysmap(space: 2, index: 0x40500, gpfn: 0x40501), -38)
    c.expect("add_to_physmap for domain 2 -> -EPERM", addToPhysmap(domid: 2, space: 1, index: 0, gpfn: 0x38010), -1)
    c.expect("add_to_physmap for domain 9 -> -ESRCH", addToPhysmap(domid: 9, space: 1, index: 0, gpfn: 0x38010), -3)
    c.expect("add_to_physmap(grant_table, 1) grows the table", addToPhysmap(space: 1, index: 1, gpfn: grantWindow >> 12 + 1), 0)
    let q = buffer(2)
    q[0] = selfID
    c.expect("query_size returns 0", grantOp(.querySize, address(q)), 0)
    c.expect("query_size: 2 frames of 64", q[0] >> 32 == 2 && q[1] & 0xFFFF_FFFF == 64 && q[1] >> 32 & 0xFFFF == 0)
    let frames = buffer(2)
    let setup = buffer(3)
    setup[0] = selfID | 2 << 32; setup[2] = address(frames)
    c.expect("setup_table(2) returns 0", grantOp(.setupTable, address(setup)), 0)
    c.expect("setup_table gives where the frames are", setup[1] & 0xFFFF == 0 && frames[0] == 0x38000 && frames[1] == 0x38001)

    store(grantedPage, pattern)
    store(readOnlyPage, readOnlyPattern)
    store(mailboxPage, 0); store(mailboxPage + 8, 0); store(mailboxPage + 16, 0)
    func grant(_ ref: UInt64, flags: UInt32, to domid: UInt32, frame: UInt64) {
        store32(grantWindow + ref * 8 + 4, UInt32(frame >> 12))
        store32(grantWindow + ref * 8, flags | domid << 16)   // flags last: the entry is whole before it is valid
    }
    grant(10, flags: 1, to: 2, frame: grantedPage)
    grant(11, flags: 1 | 4, to: 2, frame: readOnlyPage)
    grant(12, flags: 1, to: 3, frame: grantedPage)         // to a domain that is not the mapper
    grant(14, flags: 0, to: 2, frame: grantedPage)         // GTF_invalid
    grant(13, flags: 1, to: 2, frame: mailboxPage)         // last: the grantee starts when it maps this

    c.expect("grantee mapped ref 10 (mailbox step 1)", wait(mailboxPage, for: 1))
    c.expectWord("entry 10 shows GTF_reading|GTF_writing while mapped", UInt64(load32(grantWindow + 80) & 0x18), 0x18)
    c.expectWord("the grantee's write reached the granted page", load(grantedPage + 8), 0xB0B0_B0B0)
    c.expect("decrease_reservation of a page another domain maps -> 0 done", reservation(1, [grantedPage >> 12]), 0)
    store(mailboxPage + 8, 1)
    c.expect("grantee unmapped (mailbox step 2)", wait(mailboxPage, for: 2))
    c.expectWord("entries 10 and 11 are no longer in use", UInt64((load32(grantWindow + 80) | load32(grantWindow + 88)) & 0x18), 0)
    c.expect("decrease_reservation of the page once unmapped -> 1", reservation(1, [grantedPage >> 12]), 1)
    c.expect("populate_physmap fills it again -> 1", reservation(6, [grantedPage >> 12]), 1)
    c.expectWord("the page comes back zeroed", load(grantedPage), 0)
    store(mailboxPage + 8, 2)
    c.expect("grantee finished (mailbox step 3)", wait(mailboxPage, for: 3))
    c.expect("grantee's failures", Int64(load(mailboxPage + 16)), 0)
    // The grantee ends with the mailbox still mapped: its shutdown tears the mapping down.
    var released = false
    for _ in 0..<2_000_000 where !released {
        released = load32(grantWindow + 13 * 8) & 0x18 == 0
        if !released { Guest.yield() }
    }
    c.expect("the grantee's shutdown released its mapping of ref 13", released)
}

// MARK: domain 2

func grantee(_ c: inout Checks) {
    let maximum = memoryOp(4, address(buffer(1).initialized(selfID)))
    c.expect("maximum_reservation is RAM in pages (8 MiB)", maximum, 2048)
    c.expect("decrease_reservation of the mailbox's place", reservation(1, [mailboxPage >> 12]), 1)
    let map = buffer(4)
    /// map_grant_ref: returns (status, handle, dev_bus_addr).
    func mapGrant(ref: UInt64, of domid: UInt64 = 1, at place: UInt64, flags: UInt64 = 2) -> (Int64, UInt64, UInt64) {
        map[0] = place; map[1] = flags | ref << 32; map[2] = domid | 0xAAAA << 16; map[3] = 0
        let r = grantOp(.mapGrantRef, address(map))
        guard r == 0 else { return (r, 0, 0) }
        return (Int64(Int16(truncatingIfNeeded: map[2] >> 16)), map[2] >> 32, map[3])
    }
    var met = false
    for _ in 0..<2_000_000 {
        if mapGrant(ref: 13, at: mailboxPage).0 == 0 { met = true; break }
        Guest.yield()
    }
    c.expect("mapped the granter's mailbox (ref 13)", met)
    guard met else { return }

    grantTableQueries(&c)
    c.expect("current_reservation is one page less", memoryOp(3, address(buffer(1).initialized(selfID))), maximum - 1)
    c.expect("current_reservation of domain 1 -> -EPERM", memoryOp(3, address(buffer(1).initialized(1))), -1)
    c.expect("decrease_reservation of two pages -> 2", reservation(1, [grantedPage >> 12, readOnlyPage >> 12]), 2)
    c.expect("current_reservation is three pages less", memoryOp(3, address(buffer(1).initialized(selfID))), maximum - 3)
    c.expect("decrease_reservation of a hole -> 0", reservation(1, [grantedPage >> 12]), 0)
    c.expect("decrease_reservation outside RAM -> 0", reservation(1, [0x50000]), 0)
    c.expect("decrease_reservation of order 10 -> 0", reservation(1, [0x40600], order: 10), 0)
    c.expect("decrease_reservation of domain 1 -> 0", reservation(1, [0x40500], domid: 1), 0)
    c.expect("a ballooned-out page faults", Guest.probe { _ = probe_read64(grantedPage) } != nil)

    let (status, handle, bus) = mapGrant(ref: 10, at: grantedPage)
    c.expect("map_grant_ref(ref 10) over the hole", Int64(status), 0)
    c.expect("dev_bus_addr is the granted frame's guest-physical address", bus == grantedPage)
    c.expectWord("reads the granter's data through the grant", load(grantedPage), pattern)
    store(grantedPage + 8, 0xB0B0_B0B0)
    store(mailboxPage, 1)
    c.expect("granter checked (ack 1)", wait(mailboxPage + 8, for: 1))

    c.expect("writable map of a read-only grant -> GNTST_general_error", mapGrant(ref: 11, at: readOnlyPage).0, -1)
    let (roStatus, roHandle, _) = mapGrant(ref: 11, at: readOnlyPage, flags: 2 | 4)
    c.expect("map_grant_ref(ref 11, GNTMAP_readonly)", roStatus, 0)
    c.expectWord("reads the read-only grant", load(readOnlyPage), readOnlyPattern)
    let esr = Guest.probe { probe_write64(readOnlyPage, 1) }
    c.expect("writing a read-only grant: a data abort, and the guest goes on", esr.map { $0 >> 26 == 0x25 } ?? false)
    c.expectWord("the read-only page is unchanged", load(readOnlyPage), readOnlyPattern)
    c.expect("map of a grant to domain 3 -> GNTST_general_error", mapGrant(ref: 12, at: 0x4040_2000).0, -1)
    c.expect("map of an entry not granted -> GNTST_general_error", mapGrant(ref: 14, at: 0x4040_2000).0, -1)
    c.expect("map of ref 1024 (two frames: refs 0-1023) -> GNTST_bad_gntref", mapGrant(ref: 1024, at: 0x4040_2000).0, -3)
    c.expect("map from domain 7 -> GNTST_bad_domain", mapGrant(ref: 10, of: 7, at: 0x4040_2000).0, -2)
    c.expect("map from DOMID_SELF -> GNTST_bad_domain", mapGrant(ref: 10, of: selfID, at: 0x4040_2000).0, -2)
    c.expect("map over a populated page -> GNTST_general_error", mapGrant(ref: 10, at: 0x4050_0000).0, -1)
    c.expect("map outside RAM and the grant window -> GNTST_general_error", mapGrant(ref: 10, at: 0x5000_0000).0, -1)
    c.expect("map without GNTMAP_host_map -> GNTST_bad_gntref", mapGrant(ref: 10, at: 0x4040_2000, flags: 0).0, -3)
    c.expect("map with GNTMAP_device_map -> GNTST_general_error", mapGrant(ref: 10, at: 0x4040_2000, flags: 3).0, -1)

    grantCopies(&c)

    let unmap = buffer(3)
    func unmapGrant(_ handle: UInt64, at place: UInt64) -> Int64 {
        unmap[0] = place; unmap[1] = 0; unmap[2] = handle | 0x5555 << 32
        let r = grantOp(.unmapGrantRef, address(unmap))
        return r == 0 ? Int64(Int16(truncatingIfNeeded: unmap[2] >> 32)) : r
    }
    manyMappings(&c, map: { mapGrant(ref: 11, at: $0, flags: 2 | 4) }, unmap: { unmapGrant($0, at: $1) })
    c.expect("unmap at another address -> GNTST_general_error", unmapGrant(roHandle, at: grantedPage), -1)
    let replace = buffer(3)
    replace[0] = readOnlyPage; replace[1] = 0x4050_0000; replace[2] = roHandle
    c.expect("unmap_and_replace with a new address returns 0", grantOp(.unmapAndReplace, address(replace)), 0)
    c.expect("unmap_and_replace with a new address: GNTST_general_error (Arm)", Int64(Int16(truncatingIfNeeded: replace[2] >> 32)), -1)
    c.expect("unmap_grant_ref(ref 10)", unmapGrant(handle, at: grantedPage), 0)
    c.expect("unmap it again -> GNTST_bad_handle", unmapGrant(handle, at: grantedPage), -4)
    c.expect("unmap_grant_ref(ref 11)", unmapGrant(roHandle, at: readOnlyPage), 0)
    c.expect("unmap of handle 999 -> GNTST_bad_handle", unmapGrant(999, at: grantedPage), -4)
    c.expect("the unmapped place faults again", Guest.probe { _ = probe_read64(grantedPage) } != nil)
    store(mailboxPage, 2)
    c.expect("granter checked (ack 2)", wait(mailboxPage + 8, for: 2))

    c.expect("populate_physmap of the two holes -> 2", reservation(6, [grantedPage >> 12, readOnlyPage >> 12]), 2)
    c.expect("a populated page is zeroed (no trace of the grant)", load(grantedPage) == 0 && load(readOnlyPage) == 0)
    c.expect("populate_physmap of a populated page -> 0", reservation(6, [grantedPage >> 12]), 0)
    c.expect("populate_physmap outside RAM -> 0", reservation(6, [0x50000]), 0)
    c.expect("current_reservation: back to one page less", memoryOp(3, address(buffer(1).initialized(selfID))), maximum - 1)
    c.expect("unknown memory_op -> -ENOSYS", memoryOp(63, 0), -38)
    store(mailboxPage + 16, UInt64(c.failures))
    store(mailboxPage, 3)
}

/// A driver domain holds thousands of mappings: read-only ref 11 mapped at every page of the
/// grant window (4096) and at 512 ballooned-out pages of its RAM at once, then all unmapped.
func manyMappings(_ c: inout Checks, map: (UInt64) -> (Int64, UInt64, UInt64), unmap: (UInt64, UInt64) -> Int64) {
    let ramPlaces: UInt64 = 0x4060_0000, ramCount = 512, windowCount = 4096
    let frames = (0..<UInt64(ramCount)).map { ramPlaces >> 12 + $0 }
    c.expect("decrease_reservation of 512 pages -> 512", reservation(1, frames), Int64(ramCount))
    let places = (0..<UInt64(windowCount)).map { grantWindow + $0 << 12 } + frames.map { $0 << 12 }
    let handles = buffer(places.count)
    var mapped = 0
    for (i, place) in places.enumerated() {
        let (status, handle, _) = map(place)
        guard status == 0 else { break }
        handles[i] = handle
        mapped += 1
    }
    c.expect("4608 mappings at once (grant window and ballooned-out RAM)", Int64(mapped), Int64(places.count))
    c.expectWord("the last one reads the grant", load(places[mapped - 1]), readOnlyPattern)
    var unmapped = 0
    for i in 0..<mapped where unmap(handles[i], places[i]) == 0 { unmapped += 1 }
    c.expect("all of them unmap -> GNTST_okay", Int64(unmapped), Int64(mapped))
    c.expect("populate_physmap of the 512 pages -> 512", reservation(6, frames), Int64(ramCount))
}

/// query_size, setup_table, set_version, get_version and bad operations, on its own table.
func grantTableQueries(_ c: inout Checks) {
    let q = buffer(2)
    q[0] = selfID
    c.expect("query_size returns 0", grantOp(.querySize, address(q)), 0)
    c.expect("query_size: 1 frame of at most 64 (Xen's default for a domU)", q[0] >> 32 == 1 && q[1] & 0xFFFF_FFFF == 64)
    q[0] = 1
    c.expect("query_size of domain 1 returns 0", grantOp(.querySize, address(q)), 0)
    c.expect("query_size of domain 1: GNTST_permission_denied", Int64(Int16(truncatingIfNeeded: q[1] >> 32)), -8)
    c.expect("query_size with count 2 -> -EINVAL", grantOp(.querySize, address(q), count: 2), -22)
    let frames = buffer(1)
    let setup = buffer(3)
    setup[0] = selfID | 1 << 32; setup[2] = address(frames)
    c.expect("setup_table(1) returns 0", grantOp(.setupTable, address(setup)), 0)
    c.expect("setup_table: status okay, frame not mapped (INVALID_GFN)", setup[1] & 0xFFFF == 0 && frames[0] == ~0)
    setup[0] = selfID | 65 << 32
    _ = grantOp(.setupTable, address(setup))
    c.expect("setup_table(65 frames): GNTST_general_error", Int64(Int16(truncatingIfNeeded: setup[1])), -1)
    let version = buffer(1)
    version[0] = 2
    c.expect("set_version(2) -> -ENOSYS (v1 only)", grantOp(.setVersion, address(version)), -38)
    c.expectWord("set_version writes back version 1", version[0] & 0xFFFF_FFFF, 1)
    version[0] = 1
    c.expect("set_version(1) -> 0", grantOp(.setVersion, address(version)), 0)
    version[0] = selfID
    c.expect("get_version -> 0", grantOp(.getVersion, address(version)), 0)
    c.expectWord("get_version says 1", version[0] >> 32, 1)
    version[0] = 1
    c.expect("get_version of domain 1 -> -EPERM", grantOp(.getVersion, address(version)), -1)
    version[0] = 9
    c.expect("get_version of domain 9 -> -ESRCH", grantOp(.getVersion, address(version)), -3)
    c.expect("grant_table_op(transfer) -> -EOPNOTSUPP (no PV guests on Arm)", grantOp(.transfer, address(version)), -95)
    c.expect("grant_table_op(dump_table) -> -ENOSYS", grantOp(.dumpTable, address(version)), -38)
    let status = buffer(2)
    status[0] = 1 | selfID << 32
    c.expect("get_status_frames(1) returns 0", grantOp(.getStatusFrames, address(status)), 0)
    c.expect("get_status_frames(1): GNTST_general_error (v1 has none)", Int64(Int16(truncatingIfNeeded: status[0] >> 48)), -1)
    let swap = buffer(2)
    swap[0] = 3 | 4 << 32
    c.expect("swap_grant_ref(3, 4) returns 0", grantOp(.swapGrantRef, address(swap)), 0)
    c.expect("swap_grant_ref(3, 4): GNTST_okay", Int64(Int16(truncatingIfNeeded: swap[1])), 0)
    swap[0] = 3 | 600 << 32
    _ = grantOp(.swapGrantRef, address(swap))
    c.expect("swap_grant_ref(3, 600): GNTST_bad_gntref", Int64(Int16(truncatingIfNeeded: swap[1])), -3)
    c.expect("grant_table_op with an unmapped buffer -> -EFAULT", grantOp(.mapGrantRef, 0x4000_0000 + Guest.memoryBytes), -14)
}

/// GNTTABOP_copy between the granter's grants and own frames.
func grantCopies(_ c: inout Checks) {
    let scratch: UInt64 = 0x4041_0000
    store(scratch, 0)
    let op = buffer(5)
    func copy(source: (UInt64, UInt64, UInt64), dest: (UInt64, UInt64, UInt64), length: UInt64, flags: UInt64) -> Int64 {
        op[0] = source.0; op[1] = source.1 | source.2 << 16; op[2] = dest.0; op[3] = dest.1 | dest.2 << 16
        op[4] = length | flags << 16 | 0x7777 << 32
        let r = grantOp(.copy, address(op))
        return r == 0 ? Int64(Int16(truncatingIfNeeded: op[4] >> 32)) : r
    }
    c.expect("copy from ref 10 to an own frame", copy(source: (10, 1, 0), dest: (scratch >> 12, selfID, 0), length: 16, flags: 1), 0)
    c.expectWord("the copy holds the granter's data", load(scratch), pattern)
    c.expect("copy into a read-only grant -> GNTST_general_error",
             copy(source: (scratch >> 12, selfID, 0), dest: (11, 1, 0), length: 8, flags: 2), -1)
    c.expect("copy of an own frame named by domid 2 -> GNTST_permission_denied",
             copy(source: (scratch >> 12, 2, 0), dest: (scratch >> 12, selfID, 8), length: 8, flags: 0), -8)
    c.expect("copy across the page end -> GNTST_bad_copy_arg",
             copy(source: (10, 1, 4000), dest: (scratch >> 12, selfID, 0), length: 200, flags: 1), -10)
    c.expect("copy from a grant to domain 3 -> GNTST_general_error",
             copy(source: (12, 1, 0), dest: (scratch >> 12, selfID, 0), length: 8, flags: 1), -1)
}

extension Checks {
    mutating func expectWord(_ name: StaticString, _ got: UInt64, _ want: UInt64) {
        expect(name, Int64(bitPattern: got), Int64(bitPattern: want))
    }
}

extension UnsafeMutablePointer where Pointee == UInt64 {
    func initialized(_ v: UInt64) -> Self { pointee = v; return self }
}

// MARK: a granter that reboots while its page is mapped

let newBootPattern: UInt64 = 0x544F_4F42_5745_4E21   // "!NEWBOOT": the rebooted granter's data
let secondPlace: UInt64 = 0x4040_1000                 // where the watcher maps the new boot's grant

/// Boot 1 grants ref 10 (its page `grantedPage`) to the watcher and reboots once it is mapped;
/// boot 2 finds the page zeroed and its grant table fresh, grants the same ref again with new
/// data, and waits until the watcher has mapped that and written 2 into it.
func rebooter(_ c: inout Checks) {
    if Guest.hasBootArgument("swiftvisor.boot=2") {
        c.expect("after the reboot the page is zeroed", load(grantedPage) == 0 && load(grantedPage + 8) == 0)
        c.expect("after the reboot the grant frame is no longer mapped", Guest.probe { _ = probe_read64(grantWindow) } != nil)
        let q = buffer(2)
        q[0] = selfID
        c.expect("after the reboot query_size says 1 frame", grantOp(.querySize, address(q)) == 0 && q[0] >> 32 == 1)
        c.expect("after the reboot add_to_physmap(grant_table, 0)", addToPhysmap(space: 1, index: 0, gpfn: grantWindow >> 12), 0)
        store(grantedPage, newBootPattern)
        store(grantedPage + 8, 0)
        grant(ref: 10, page: grantedPage, to: 2)
        c.expect("the watcher mapped the new boot's grant", wait(grantedPage + 8, for: 2))
        return
    }
    c.expect("add_to_physmap(grant_table, 0)", addToPhysmap(space: 1, index: 0, gpfn: grantWindow >> 12), 0)
    c.expect("grows to 3 frames", addToPhysmap(space: 1, index: 2, gpfn: grantWindow >> 12 + 2), 0)
    store(grantedPage, pattern)
    store(grantedPage + 8, 0)
    grant(ref: 10, page: grantedPage, to: 2)
    c.expect("the watcher mapped the page", wait(grantedPage + 8, for: 1))
    Guest.print("rebooting with the page mapped")
    Guest.shutdown(.reboot, exitCode: 0)
}

/// Entry `ref` of grant frame 0 (mapped at `grantWindow`): read/write access to `page` for `domid`.
func grant(ref: UInt64, page: UInt64, to domid: UInt32) {
    store32(grantWindow + ref * 8 + 4, UInt32(page >> 12))
    store32(grantWindow + ref * 8, 1 | domid << 16)
}

/// Maps the rebooter's ref 10 read/write at `place`; the handle, or nil if it does not map
/// (tried until it does, or for a while).
func mapRebootersPage(at place: UInt64, whileWaiting poll: () -> Void) -> UInt64? {
    let map = buffer(4)
    for _ in 0..<2_000_000 {
        map[0] = place; map[1] = 2 | 10 << 32; map[2] = 1; map[3] = 0
        if grantOp(.mapGrantRef, address(map)) == 0 && Int16(truncatingIfNeeded: map[2] >> 16) == 0 { return map[2] >> 32 }
        poll()
        Guest.yield()
    }
    return nil
}

/// Maps the rebooter's page and keeps reading it across the rebooter's reboot: never a fault,
/// the old data then zeros (its own scratch page, never the new boot's data); unmaps it with
/// GNTST_okay, and maps the new boot's grant of the same ref.
func watcher(_ c: inout Checks) {
    c.expect("decrease_reservation of the page's place", reservation(1, [grantedPage >> 12]), 1)
    c.expect("decrease_reservation of a second place", reservation(1, [secondPlace >> 12]), 1)
    guard let handle = mapRebootersPage(at: grantedPage, whileWaiting: {}) else { return c.expect("mapped the rebooter's page", false) }
    c.expect("mapped the rebooter's page", true)
    c.expectWord("reads its data", load(grantedPage), pattern)
    store(grantedPage + 8, 1)
    // Read the old mapping until the rebooter's new boot grants ref 10 again, and after.
    var faulted = false, sawZeros = false, sawOther = false, sawNewBoot = false
    func watch() {
        var word: UInt64 = 0
        if Guest.probe({ word = probe_read64(grantedPage) }) != nil { faulted = true; return }
        if word == 0 { sawZeros = true } else if word == newBootPattern { sawNewBoot = true } else if word != pattern { sawOther = true }
    }
    // Until the reboot has orphaned it, ref 10 is still the first boot's grant.
    for _ in 0..<2_000_000 where !sawZeros && !faulted {
        watch()
        Guest.yield()
    }
    let fresh = mapRebootersPage(at: secondPlace, whileWaiting: watch)
    for _ in 0..<1000 { watch() }
    c.expect("the old mapping never faulted across the rebooter's reboot", !faulted)
    c.expect("the old mapping reads zeros once the rebooter has gone", sawZeros && !sawOther && load(grantedPage + 8) == 0)
    c.expect("the old mapping never shows the new boot's data", !sawNewBoot)
    c.expect("mapped the rebooted granter's new grant of the same ref", fresh != nil)
    let unmap = buffer(3)
    unmap[0] = grantedPage; unmap[2] = handle
    c.expect("unmap of the orphaned mapping -> GNTST_okay",
             grantOp(.unmapGrantRef, address(unmap)) == 0 && Int16(truncatingIfNeeded: unmap[2] >> 32) == 0)
    c.expect("its place is a hole again (faults)", Guest.probe { _ = probe_read64(grantedPage) } != nil)
    c.expect("populate_physmap of its place again -> 1", reservation(6, [grantedPage >> 12]), 1)
    guard let fresh else { return }
    c.expectWord("the new grant shows the new boot's data", load(secondPlace), newBootPattern)
    store(secondPlace + 8, 2)
    unmap[0] = secondPlace; unmap[1] = 0; unmap[2] = fresh
    c.expect("unmap of the new mapping -> GNTST_okay",
             grantOp(.unmapGrantRef, address(unmap)) == 0 && Int16(truncatingIfNeeded: unmap[2] >> 32) == 0)
}
