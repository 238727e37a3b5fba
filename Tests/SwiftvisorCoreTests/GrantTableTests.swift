import XCTest
@testable import SwiftvisorCore

/// Guest-visible grant entries in a dictionary of 32-bit words; `interfere` plays a granter
/// changing its entry between the hypervisor's read and its compare-and-swap.
final class FakeGrantMemory: GrantEntryAccess {
    var words: [UInt64: UInt32] = [:]
    var interfere: ((FakeGrantMemory, UInt64) -> Void)?
    func load32(_ a: HostPhysicalAddress) -> UInt32 { words[a.rawValue] ?? 0 }
    func compareExchange32(_ a: HostPhysicalAddress, expected: UInt32, desired: UInt32) -> UInt32 {
        interfere?(self, a.rawValue)
        let found = load32(a)
        if found == expected { words[a.rawValue] = desired }
        return found
    }
    func clearBits16(_ a: HostPhysicalAddress, _ mask: UInt16) { words[a.rawValue] = load32(a) & ~UInt32(mask) }
    func store32(_ a: HostPhysicalAddress, _ v: UInt32) { words[a.rawValue] = v }
}

/// Two or three domains with grant tables, RAM frames 0x40000+ backed at 0x8000_0000 + domid << 24,
/// and a mapper stage 2 that records holes and mappings.
final class GrantWorld: GrantOperations.Stage2 {
    let memory = FakeGrantMemory()
    var tables: [UInt16: GrantTable] = [:]
    var mapped: [UInt64: (HostPhysicalAddress, Bool)] = [:]
    var notHoles: Set<UInt64> = []
    var copies: [(HostPhysicalAddress, HostPhysicalAddress, Int)] = []

    init(domains: [UInt16] = [1, 2, 3]) {
        var next: UInt64 = 0x7000_0000
        for d in domains {
            let t = GrantTable()
            _ = t.grow(to: 1) { next += 0x1000; return HostPhysicalAddress(next) }
            tables[d] = t
        }
    }
    func domains(_ d: XenDomainID) -> GrantTable? { tables[d.rawValue] }
    func backing(_ d: XenDomainID, _ gfn: GuestFrameNumber) -> HostPhysicalAddress? {
        (0x40000..<0x41000).contains(gfn.rawValue) ? HostPhysicalAddress(0x8000_0000 + UInt64(d.rawValue) << 24 + (gfn.rawValue - 0x40000) << 12) : nil
    }
    /// Granter `d` writes entry `ref`: flags, domid, frame.
    func grant(_ d: UInt16, ref: UInt32, flags: UInt16, to domid: UInt16, frame: UInt32) {
        let at = tables[d]!.headerAddress(GrantReference(ref)).rawValue
        memory.words[at] = UInt32(flags) | UInt32(domid) << 16
        memory.words[at + 4] = frame
    }
    func flags(_ d: UInt16, ref: UInt32) -> UInt16 {
        UInt16(truncatingIfNeeded: memory.words[tables[d]!.headerAddress(GrantReference(ref)).rawValue] ?? 0)
    }
    func install(_ place: GuestFrameNumber, _ host: HostPhysicalAddress, readOnly: Bool) -> Bool {
        guard mapped[place.rawValue] == nil, !notHoles.contains(place.rawValue) else { return false }
        mapped[place.rawValue] = (host, readOnly)
        return true
    }
    func remove(_ place: GuestFrameNumber, _ host: HostPhysicalAddress) -> Bool {
        guard mapped[place.rawValue]?.0 == host else { return false }
        mapped[place.rawValue] = nil
        return true
    }
    func map(by mapper: UInt16, ref: UInt32, of granter: UInt16, at address: UInt64 = 0x3900_0000, flags: UInt32 = 2)
        -> Result<(handle: GrantHandle, devBusAddress: UInt64), GrantStatus> {
        var me = self
        return GrantOperations.map(.init(hostAddress: address, flags: flags, ref: GrantReference(ref), domid: granter),
                                   mapper: XenDomainID(rawValue: mapper), domains: domains, memory: memory,
                                   backing: backing, stage2: &me)
    }
    func unmap(by mapper: UInt16, handle: UInt32, at address: UInt64 = 0x3900_0000) -> GrantStatus {
        var me = self
        return GrantOperations.unmap(hostAddress: address, handle: GrantHandle(handle), mapper: XenDomainID(rawValue: mapper),
                                     domains: domains, memory: memory, stage2: &me)
    }
    func copy(by caller: UInt16, _ r: GrantCopy.Request) -> GrantStatus {
        GrantCopy.perform(r, caller: XenDomainID(rawValue: caller), domains: domains, memory: memory, backing: backing) {
            self.copies.append(($0, $1, $2))
        }
    }
}

func status<T>(_ r: Result<T, GrantStatus>) -> GrantStatus {
    if case .failure(let s) = r { return s }
    return .okay
}

final class GrantTableTests: XCTestCase {
    let permit: UInt16 = 1, readOnly: UInt16 = 1 << 2, reading: UInt16 = 1 << 3, writing: UInt16 = 1 << 4

    func test_a_granted_frame_maps_at_the_requested_address_and_marks_the_entry_in_use() throws {
        let w = GrantWorld()
        w.grant(1, ref: 5, flags: permit, to: 2, frame: 0x40010)
        guard case .success(let (handle, bus)) = w.map(by: 2, ref: 5, of: 1, at: 0x4000_3000) else { return XCTFail() }
        XCTAssertEqual(handle, GrantHandle(0))
        XCTAssertEqual(bus, 0x4001_0000, "the granted frame's guest-physical address, never a host one")
        XCTAssertEqual(w.mapped[0x40003]?.0, HostPhysicalAddress(0x8100_0000 + 0x10_000))
        XCTAssertEqual(w.mapped[0x40003]?.1, false)
        XCTAssertEqual(w.flags(1, ref: 5), permit | reading | writing)
        XCTAssertTrue(w.tables[1]!.isMapped(GuestFrameNumber(0x40010)))
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0x4000_3000), .okay)
        XCTAssertNil(w.mapped[0x40003])
        XCTAssertEqual(w.flags(1, ref: 5), permit)
        XCTAssertFalse(w.tables[1]!.isMapped(GuestFrameNumber(0x40010)))
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0x4000_3000), .badHandle, "double unmap")
    }

    func test_read_only_mappings_set_only_reading_and_are_read_only_in_stage_2() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit | readOnly, to: 2, frame: 0x40001)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1)), .generalError, "writable mapping of a read-only grant")
        XCTAssertEqual(w.flags(1, ref: 1), permit | readOnly)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, flags: 2 | 4)), .okay)
        XCTAssertEqual(w.mapped[0x39000]?.1, true)
        XCTAssertEqual(w.flags(1, ref: 1), permit | readOnly | reading)
    }

    func test_entries_that_do_not_grant_to_the_mapper_are_refused() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: 0, to: 2, frame: 0x40001)              // GTF_invalid
        w.grant(1, ref: 2, flags: permit, to: 3, frame: 0x40001)         // for another domain
        w.grant(1, ref: 3, flags: 2, to: 2, frame: 0x40001)              // GTF_accept_transfer
        w.grant(1, ref: 4, flags: permit | 1 << 8, to: 2, frame: 0x40001) // GTF_sub_page
        w.grant(1, ref: 5, flags: permit, to: 2, frame: 0x50000)         // not the granter's RAM
        for ref: UInt32 in 1...4 { XCTAssertEqual(status(w.map(by: 2, ref: ref, of: 1)), .generalError, "ref \(ref)") }
        XCTAssertEqual(status(w.map(by: 2, ref: 5, of: 1)), .badPage)
        XCTAssertEqual(w.flags(1, ref: 5), permit, "flags set for the attempt are cleared again")
        XCTAssertEqual(status(w.map(by: 2, ref: 512, of: 1)), .badGntref, "one frame holds refs 0-511")
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 9)), .badDomain)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: XenDomainID.selfID)), .badDomain, "DOMID_SELF is not a domain for map")
        XCTAssertTrue(w.mapped.isEmpty)
    }

    func test_map_flags_are_checked_first() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, flags: 0)), .badGntref, "neither host_map nor device_map")
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, flags: 1)), .generalError, "device_map")
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, flags: 2 | 8)), .generalError, "application_map")
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, flags: 2 | 16)), .generalError, "contains_pte")
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, flags: 2 | 1 << 16)), .generalError, "other bits")
        XCTAssertEqual(w.flags(1, ref: 1), permit)
    }

    func test_a_mapping_goes_only_over_a_hole() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        w.notHoles.insert(0x40000)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, at: 0x4000_0000)), .generalError)
        XCTAssertEqual(w.flags(1, ref: 1), permit)
        XCTAssertFalse(w.tables[1]!.isMapped(GuestFrameNumber(0x40001)))
    }

    func test_an_entry_in_use_by_one_domain_cannot_be_mapped_by_another() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1)), .okay)
        w.grant(1, ref: 1, flags: permit | reading | writing, to: 3, frame: 0x40001)   // the granter re-grants it
        XCTAssertEqual(status(w.map(by: 3, ref: 1, of: 1, at: 0x3900_1000)), .generalError)
        // The same mapper may map it twice; the entry stays in use until both go.
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, at: 0x3900_1000)), .okay)
        XCTAssertEqual(w.unmap(by: 2, handle: 0), .okay)
        XCTAssertNotEqual(w.flags(1, ref: 1) & writing, 0)
        XCTAssertEqual(w.unmap(by: 2, handle: 1, at: 0x3900_1000), .okay)
        XCTAssertEqual(w.flags(1, ref: 1) & (reading | writing), 0)
    }

    func test_unmap_checks_the_handle_and_the_address() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        XCTAssertEqual(w.unmap(by: 2, handle: 0), .badHandle)
        XCTAssertEqual(w.unmap(by: 2, handle: 0xFFFF_FFFF), .badHandle)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1)), .okay)
        XCTAssertEqual(w.unmap(by: 3, handle: 0), .badHandle, "handles are the mapper's own")
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0x3900_5000), .generalError, "not where it is mapped")
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0), .okay, "host_addr 0 leaves the host mapping alone")
        XCTAssertNotNil(w.mapped[0x39000])
        XCTAssertEqual(w.unmap(by: 2, handle: 0), .okay)
    }

    func test_a_granter_that_keeps_changing_its_entry_gets_a_general_error_after_five_tries() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        var n: UInt32 = 0
        w.memory.interfere = { m, a in n += 1; m.words[a] = UInt32(1) | 2 << 16 | n << 5 }   // flips an unused bit
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1)), .generalError)
        XCTAssertEqual(n, 5)
        // One change is tolerated: the swap is retried on what was found.
        var once = true
        w.memory.interfere = { m, a in if once { once = false; m.words[a] = UInt32(1) | 2 << 16 } }
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1)), .okay)
    }

    func test_revoking_removes_the_mapping_and_releases_the_entry() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1)), .okay)
        var s = w
        for (handle, _) in w.tables[2]!.mappings {
            GrantOperations.revoke(handle, of: w.tables[2]!, granterTable: w.tables[1], memory: w.memory, stage2: &s)
        }
        XCTAssertTrue(w.mapped.isEmpty)
        XCTAssertEqual(w.flags(1, ref: 1), permit)
        XCTAssertTrue(w.tables[2]!.mappings.isEmpty)
    }

    func test_the_table_grows_to_its_maximum_and_resets_to_one_frame() {
        let t = GrantTable(maxFrames: 4)
        var n: UInt64 = 0
        XCTAssertTrue(t.grow(to: 3) { n += 1; return HostPhysicalAddress(0x7000_0000 + n << 12) })
        XCTAssertEqual(t.entryCount, 3 * 512)
        XCTAssertFalse(t.grow(to: 5) { nil })
        t.setPlace(ofFrame: 2, GuestFrameNumber(0x38002))
        XCTAssertEqual(t.frameIndex(at: GuestFrameNumber(0x38002)), 2)
        t.reset()
        XCTAssertEqual(t.frameCount, 1)
        XCTAssertNil(t.frameIndex(at: GuestFrameNumber(0x38002)))
        XCTAssertTrue(t.grow(to: 3) { XCTFail("spare frames are reused"); return nil })
    }

    // MARK: copy

    func copyRequest(source: (UInt64, UInt16, UInt16), dest: (UInt64, UInt16, UInt16), length: UInt16, flags: UInt16) -> GrantCopy.Request {
        .init(source: .init(refOrFrame: source.0, domid: source.1, offset: source.2),
              dest: .init(refOrFrame: dest.0, domid: dest.1, offset: dest.2), length: length, flags: flags)
    }

    func test_copy_from_a_grant_to_an_own_frame() {
        let w = GrantWorld()
        w.grant(1, ref: 7, flags: permit | readOnly, to: 2, frame: 0x40020)
        let selfID = XenDomainID.selfID
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (7, 1, 16), dest: (0x40003, selfID, 32), length: 100, flags: 1)), .okay)
        XCTAssertEqual(w.copies.count, 1)
        XCTAssertEqual(w.copies[0].0, HostPhysicalAddress(0x8200_0000 + 0x3000 + 32))
        XCTAssertEqual(w.copies[0].1, HostPhysicalAddress(0x8100_0000 + 0x20_000 + 16))
        XCTAssertEqual(w.flags(1, ref: 7), permit | readOnly, "pinned only during the copy")
        // Into a read-only grant: refused.
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (0x40003, selfID, 0), dest: (7, 1, 0), length: 8, flags: 2)), .generalError)
        XCTAssertEqual(w.flags(1, ref: 7), permit | readOnly)
    }

    func test_copy_arguments_are_checked_in_xens_order() {
        let w = GrantWorld()
        let selfID = XenDomainID.selfID
        w.grant(1, ref: 7, flags: permit, to: 2, frame: 0x40020)
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (0x40003, 2, 0), dest: (0x40004, selfID, 0), length: 8, flags: 0)),
                       .permissionDenied, "a frame with a numeric domid, even the caller's own")
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (7, 9, 0), dest: (0x40004, selfID, 0), length: 8, flags: 1)), .badDomain)
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (600, 1, 0), dest: (0x40004, selfID, 0), length: 8, flags: 1)), .badGntref)
        XCTAssertEqual(w.copy(by: 3, copyRequest(source: (7, 1, 0), dest: (0x40004, selfID, 0), length: 8, flags: 1)), .generalError,
                       "granted to another domain")
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (0x50000, selfID, 0), dest: (7, 1, 0), length: 8, flags: 2)), .badPage)
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (7, 1, 4000), dest: (0x40004, selfID, 0), length: 100, flags: 1)), .badCopyArg)
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (7, 1, 0), dest: (0x40004, selfID, 4090), length: 7, flags: 1)), .badCopyArg)
        XCTAssertEqual(w.flags(1, ref: 7), permit, "no failed copy leaves the entry marked")
        XCTAssertTrue(w.copies.isEmpty)
        // Both sides grants, with the caller's own grant named by DOMID_SELF.
        w.grant(2, ref: 3, flags: permit, to: 2, frame: 0x40005)
        XCTAssertEqual(w.copy(by: 2, copyRequest(source: (7, 1, 0), dest: (3, selfID, 0), length: 4096, flags: 3)), .okay)
    }

    // MARK: memory_op

    func test_reservation_refusals_return_the_start_extent() {
        let me = XenDomainID(rawValue: 2)
        func refusal(_ r: XenMemoryOp.Reservation, start: UInt64 = 0) -> UInt64? {
            XenMemoryOp.refusal(r, command: .decreaseReservation, startExtent: start, caller: me, isLive: { $0.rawValue <= 3 })
        }
        XCTAssertNil(refusal(.init(extentStart: 0x1000, extentCount: 4, extentOrder: 0, domid: XenDomainID.selfID)))
        XCTAssertNil(refusal(.init(extentStart: 0x1000, extentCount: 4, extentOrder: 9, domid: 2)))
        XCTAssertEqual(refusal(.init(extentStart: 0x1000, extentCount: 4, extentOrder: 10, domid: 2)), 0, "above CONFIG_DOMU_MAX_ORDER")
        XCTAssertEqual(refusal(.init(extentStart: 0x1000, extentCount: 4, extentOrder: 0, domid: 1)), 0, "another domain")
        XCTAssertEqual(refusal(.init(extentStart: 0x1000, extentCount: 4, extentOrder: 0, domid: 7)), 0, "no such domain")
        XCTAssertEqual(refusal(.init(extentStart: 0x1000, extentCount: 4, extentOrder: 0, domid: 2), start: 4), 4)
        XCTAssertEqual(refusal(.init(extentStart: 0x1000, extentCount: 1 << 26, extentOrder: 0, domid: 2)), 0, "too many to continue")
    }

    func test_extents_stop_at_the_first_page_that_fails() {
        let r = XenMemoryOp.Reservation(extentStart: 0, extentCount: 3, extentOrder: 1, domid: XenDomainID.selfID)
        var pages: [UInt64] = []
        let done = XenMemoryOp.runExtents(r, start: 0, readFrame: { [0x40000, 0x40010, 0x40020][Int($0)] }) {
            pages.append($0.rawValue); return $0.rawValue != 0x40011
        }
        XCTAssertEqual(done, 1)
        XCTAssertEqual(pages, [0x40000, 0x40001, 0x40010, 0x40011])
        XCTAssertEqual(XenMemoryOp.runExtents(r, start: 1, readFrame: { $0 == 2 ? nil : 0x40000 }) { _ in true }, 2, "unreadable list entry")
    }

    func test_structures_decode_as_xens_layout() {
        var b = [UInt8](repeating: 0, count: 32)
        b[0] = 0x00; b[1] = 0x10; b[8] = 3; b[16] = 2; b[20] = 0x55; b[24] = 0xF0; b[25] = 0x7F
        XCTAssertEqual(XenMemoryOp.Reservation(bytes: b),
                       .init(extentStart: 0x1000, extentCount: 3, extentOrder: 2, memFlags: 0x55, domid: 0x7FF0))
        var a = [UInt8](repeating: 0, count: 24)
        a[0] = 0xF0; a[1] = 0x7F; a[4] = 1; a[8] = 5; a[16] = 0x00; a[17] = 0x80; a[18] = 0x03
        let x = XenMemoryOp.AddToPhysmap(bytes: a)
        XCTAssertEqual(x.domid, 0x7FF0); XCTAssertEqual(x.space, 1); XCTAssertEqual(x.index, 5); XCTAssertEqual(x.gpfn, GuestFrameNumber(0x38000))
    }

    func test_ram_reservation_counts_holes() {
        var r = RAMReservation(ram: .init(base: GuestPhysicalAddress(0x4000_0000), size: 8 << 20))
        XCTAssertEqual(r.maximumPages, 2048)
        r.setHole(GuestFrameNumber(0x40001), true); r.setHole(GuestFrameNumber(0x40001), true); r.setHole(GuestFrameNumber(0x407FF), true)
        r.setHole(GuestFrameNumber(0x40800), true)   // outside RAM: nothing
        XCTAssertEqual(r.currentPages, 2046)
        XCTAssertEqual(r.allHoles, [GuestFrameNumber(0x40001), GuestFrameNumber(0x407FF)])
        r.setHole(GuestFrameNumber(0x40001), false)
        XCTAssertFalse(r.isHole(GuestFrameNumber(0x40001)))
        XCTAssertEqual(r.currentPages, 2047)
    }

    func test_foreign_pages_go_only_into_ram_or_the_grant_window() {
        let ram = AddressRange(base: GuestPhysicalAddress(0x4000_0000), size: 8 << 20)
        XCTAssertTrue(GrantPlacement.allowed(GuestFrameNumber(0x40400), ram: ram))
        XCTAssertTrue(GrantPlacement.allowed(GuestFrameNumber(0x38000), ram: ram))
        XCTAssertTrue(GrantPlacement.allowed(GuestFrameNumber(0x38FFF), ram: ram))
        XCTAssertFalse(GrantPlacement.allowed(GuestFrameNumber(0x39000), ram: ram), "the magic pages")
        XCTAssertFalse(GrantPlacement.allowed(GuestFrameNumber(0x40800), ram: ram), "just past RAM")
        XCTAssertFalse(GrantPlacement.allowed(GuestFrameNumber(0x08000), ram: ram), "the GIC")
        XCTAssertFalse(GrantPlacement.allowed(GuestFrameNumber(1 << 40), ram: ram))
    }

    func test_swap_exchanges_two_idle_entries() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        w.grant(1, ref: 2, flags: permit | readOnly, to: 3, frame: 0x40002)
        let t = w.tables[1]!
        XCTAssertEqual(t.swap(GrantReference(1), GrantReference(2), memory: w.memory), .okay)
        XCTAssertEqual(w.flags(1, ref: 1), permit | readOnly)
        XCTAssertEqual(status(w.map(by: 3, ref: 1, of: 1, flags: 2 | 4)), .okay, "ref 1 now grants frame 0x40002 to domain 3")
        XCTAssertEqual(w.mapped[0x39000]?.0, HostPhysicalAddress(0x8100_0000 + 0x2000))
        XCTAssertEqual(t.swap(GrantReference(1), GrantReference(2), memory: w.memory), .eagain, "ref 1 is in use")
        XCTAssertEqual(t.swap(GrantReference(2), GrantReference(512), memory: w.memory), .badGntref)
        XCTAssertEqual(t.swap(GrantReference(1), GrantReference(1), memory: w.memory), .okay)
    }

    func test_add_to_physmap_frame_indices() {
        let t = GrantTable()
        var n: UInt64 = 0
        let allocate = { () -> HostPhysicalAddress? in n += 1; return HostPhysicalAddress(0x7000_0000 + n << 12) }
        XCTAssertEqual(t.frameToPlace(index: 0, allocate: allocate), .success(0))
        XCTAssertEqual(t.frameToPlace(index: 63, allocate: allocate), .success(63), "the table grows to the index")
        XCTAssertEqual(t.frameCount, 64)
        XCTAssertEqual(t.frameToPlace(index: 64, allocate: allocate), .failure(.einval), "beyond max_grant_frames")
        XCTAssertEqual(t.frameToPlace(index: 0x8000_0000, allocate: allocate), .failure(.einval), "XENMAPIDX_grant_table_status with v1")
        t.setPlace(ofFrame: 5, GuestFrameNumber(0x38005))
        XCTAssertEqual(t.frameToPlace(index: 5, allocate: allocate), .failure(.ebusy), "mapped elsewhere: remove it first")
        let small = GrantTable()
        XCTAssertEqual(small.frameToPlace(index: 3) { nil }, .failure(.einval), "no memory to grow")
    }

    func test_a_domain_holds_at_most_8192_mappings() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit | readOnly, to: 2, frame: 0x40001)
        for i in 0..<UInt64(GrantTableABI.maximumHandles) {
            XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, at: 0x3800_0000 + i << 12, flags: 2 | 4)), .okay)
        }
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, at: 0x3A00_0000, flags: 2 | 4)), .noSpace)
        XCTAssertEqual(w.tables[1]!.active.count, 1, "one active entry, however many mappings use it")
        XCTAssertEqual(w.unmap(by: 2, handle: 7, at: 0x3800_7000), .okay)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, at: 0x3A00_0000, flags: 2 | 4)), .okay, "a freed handle is reused")
        XCTAssertEqual(w.tables[2]!.mapping(GrantHandle(7))?.place, GuestFrameNumber(0x3A000))
    }

    func test_entries_no_longer_in_use_leave_the_active_list() {
        let w = GrantWorld()
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        w.grant(1, ref: 2, flags: permit, to: 2, frame: 0x40002)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1)), .okay)
        XCTAssertEqual(status(w.map(by: 2, ref: 2, of: 1, at: 0x3900_1000)), .okay)
        XCTAssertEqual(w.tables[1]!.active.count, 2)
        XCTAssertEqual(w.unmap(by: 2, handle: 0), .okay)
        XCTAssertEqual(w.tables[1]!.active.count, 1)
        XCTAssertTrue(w.tables[1]!.isMapped(GuestFrameNumber(0x40002)))
        XCTAssertFalse(w.tables[1]!.isMapped(GuestFrameNumber(0x40001)))
    }
}

// MARK: a granter that ends while its pages are mapped

extension GrantWorld {
    static var scratch: HostPhysicalAddress { HostPhysicalAddress(0x9000_0000) }

    /// Granter `d` ends: every live mapping of its pages is orphaned onto the mapper's scratch
    /// page (here one address; the hypervisor gives each mapper its own).
    func granterEnds(_ d: UInt16) {
        var me = self
        for (mapper, table) in tables where mapper != d {
            for (handle, m) in table.mappings where m.granter.rawValue == d {
                GrantOperations.orphan(handle, of: table, granterTable: tables[d], scratch: Self.scratch, memory: memory, stage2: &me)
            }
        }
    }

    /// Granter `d` boots again with the same domid: a fresh table on the same (zeroed) frames.
    func granterReboots(_ d: UInt16) {
        granterEnds(d)
        let t = tables[d]!
        t.reset()
        for page in t.frames { for i in 0..<UInt64(1024) { memory.words[page.rawValue + i * 4] = nil } }
    }
}

extension GrantTableTests {
    func test_an_orphaned_mapping_shows_the_scratch_page_with_the_same_access_until_unmapped() {
        let w = GrantWorld()
        w.grant(1, ref: 5, flags: permit, to: 2, frame: 0x40010)
        w.grant(1, ref: 6, flags: permit | readOnly, to: 2, frame: 0x40011)
        XCTAssertEqual(status(w.map(by: 2, ref: 5, of: 1, at: 0x3800_0000)), .okay)
        XCTAssertEqual(status(w.map(by: 2, ref: 6, of: 1, at: 0x3800_1000, flags: 2 | 4)), .okay)
        w.granterEnds(1)
        XCTAssertEqual(w.mapped[0x38000]?.0, GrantWorld.scratch, "the place stays mapped: no fault for the mapper")
        XCTAssertEqual(w.mapped[0x38000]?.1, false, "read-write as before")
        XCTAssertEqual(w.mapped[0x38001]?.0, GrantWorld.scratch)
        XCTAssertEqual(w.mapped[0x38001]?.1, true, "read-only as before")
        XCTAssertEqual(w.tables[2]!.mapping(GrantHandle(0))?.orphaned, true)
        XCTAssertFalse(w.tables[1]!.isMapped(GuestFrameNumber(0x40010)), "the granter's page is free to be zeroed")
        XCTAssertEqual(w.flags(1, ref: 5), permit, "the granter's entry is no longer in use")
        w.granterEnds(1)   // again (a rebooting guest is released twice): nothing changes
        XCTAssertEqual(w.mapped[0x38000]?.0, GrantWorld.scratch)
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0x3800_0000), .okay)
        XCTAssertNil(w.mapped[0x38000], "the scratch page leaves the mapper's stage 2")
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0x3800_0000), .badHandle, "the handle is free")
        XCTAssertEqual(w.unmap(by: 2, handle: 1, at: 0x3800_1000), .okay)
        XCTAssertTrue(w.mapped.isEmpty)
        XCTAssertEqual(status(w.map(by: 2, ref: 5, of: 3, at: 0x3800_0000)), .generalError, "domain 3 granted nothing")
        XCTAssertEqual(w.tables[2]!.freeHandle(), GrantHandle(0), "handles are reused")
    }

    func test_unmapping_an_orphan_at_the_wrong_address_is_a_general_error() {
        let w = GrantWorld()
        w.grant(1, ref: 5, flags: permit, to: 2, frame: 0x40010)
        XCTAssertEqual(status(w.map(by: 2, ref: 5, of: 1)), .okay)
        w.granterEnds(1)
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0x3900_1000), .generalError)
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0), .okay, "host_addr 0: left alone")
        XCTAssertEqual(w.mapped[0x39000]?.0, GrantWorld.scratch)
        XCTAssertEqual(w.unmap(by: 2, handle: 0), .okay)
    }

    func test_unmapping_an_orphan_leaves_the_rebooted_granters_new_grant_of_the_same_ref_alone() {
        let w = GrantWorld()
        w.grant(1, ref: 5, flags: permit, to: 2, frame: 0x40010)
        XCTAssertEqual(status(w.map(by: 2, ref: 5, of: 1, at: 0x3800_0000)), .okay)
        w.granterReboots(1)
        // The new boot grants ref 5 again, another frame, and the mapper maps it.
        w.grant(1, ref: 5, flags: permit, to: 2, frame: 0x40020)
        guard case .success(let (fresh, _)) = w.map(by: 2, ref: 5, of: 1, at: 0x3800_1000) else { return XCTFail() }
        XCTAssertEqual(fresh, GrantHandle(1), "the orphan still holds handle 0")
        XCTAssertEqual(w.mapped[0x38001]?.0, HostPhysicalAddress(0x8100_0000 + 0x20_000))
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0x3800_0000), .okay)
        XCTAssertEqual(w.flags(1, ref: 5), permit | reading | writing, "the new grant stays in use")
        XCTAssertTrue(w.tables[1]!.isMapped(GuestFrameNumber(0x40020)))
        XCTAssertEqual(w.mapped[0x38001]?.0, HostPhysicalAddress(0x8100_0000 + 0x20_000))
        XCTAssertEqual(w.unmap(by: 2, handle: 1, at: 0x3800_1000), .okay)
        XCTAssertEqual(w.flags(1, ref: 5), permit)
        XCTAssertFalse(w.tables[1]!.isMapped(GuestFrameNumber(0x40020)))
    }

    func test_a_mapper_that_ends_releases_its_orphans_without_touching_the_granter() {
        let w = GrantWorld()
        w.grant(1, ref: 5, flags: permit, to: 2, frame: 0x40010)
        XCTAssertEqual(status(w.map(by: 2, ref: 5, of: 1)), .okay)
        w.granterReboots(1)
        w.grant(1, ref: 5, flags: permit, to: 3, frame: 0x40020)
        XCTAssertEqual(status(w.map(by: 3, ref: 5, of: 1, at: 0x3800_0000)), .okay)
        var s = w
        for (handle, m) in w.tables[2]!.mappings {
            GrantOperations.revoke(handle, of: w.tables[2]!, granterTable: w.tables[m.granter.rawValue], memory: w.memory, stage2: &s)
        }
        XCTAssertNil(w.mapped[0x39000])
        XCTAssertTrue(w.tables[2]!.mappings.isEmpty)
        XCTAssertEqual(w.flags(1, ref: 5), permit | reading | writing, "domain 3's mapping of the new grant stands")
        XCTAssertEqual(w.tables[1]!.active.count, 1)
    }

    func test_a_copy_naming_a_dead_or_rebooted_granters_old_ref_fails_cleanly() {
        let w = GrantWorld()
        XCTAssertTrue(w.tables[1]!.grow(to: 2) { HostPhysicalAddress(0x7100_0000) })
        w.grant(1, ref: 600, flags: permit, to: 2, frame: 0x40010)
        w.grant(1, ref: 5, flags: permit, to: 2, frame: 0x40011)
        let sourceGref: UInt16 = 1
        let copyRef = { (ref: UInt64) in self.copyRequest(source: (ref, 1, 0), dest: (0x40000, 0x7FF0, 0), length: 8, flags: sourceGref) }
        XCTAssertEqual(w.copy(by: 2, copyRef(600)), .okay)
        w.granterReboots(1)
        XCTAssertEqual(w.copy(by: 2, copyRef(600)), .badGntref, "the new boot's table has one frame again")
        XCTAssertEqual(w.copy(by: 2, copyRef(5)), .generalError, "ref 5 grants nothing in the new boot")
        XCTAssertTrue(w.tables[1]!.active.isEmpty, "nothing stays pinned")
        w.tables[1] = nil   // shut down for good
        XCTAssertEqual(w.copy(by: 2, copyRef(5)), .badDomain)
        XCTAssertEqual(w.copies.count, 1)
    }
}

extension GrantTableTests {
    func test_a_maptrack_that_cannot_grow_answers_no_space() {
        let w = GrantWorld()
        var asked: [Int] = []
        w.tables[2] = GrantTable(mayAllocate: { asked.append($0); return $0 < 500 })
        w.grant(1, ref: 1, flags: permit, to: 2, frame: 0x40001)
        for i in 0..<UInt64(16) { XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, at: 0x3800_0000 + i << 12)), .okay) }
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, at: 0x3801_0000)), .noSpace, "the heap has no room for 32 records")
        XCTAssertEqual(asked, [16 * 24 + 32, 32 * 24 + 32])
        XCTAssertEqual(w.unmap(by: 2, handle: 3, at: 0x3800_3000), .okay)
        XCTAssertEqual(status(w.map(by: 2, ref: 1, of: 1, at: 0x3801_0000)), .okay, "a freed handle needs no growth")
    }
}

extension GrantTableTests {
    func test_a_granter_whose_active_list_cannot_grow_answers_no_space_and_leaves_its_entry_clean() {
        let w = GrantWorld()
        w.tables[1] = GrantTable(mayAllocate: { $0 < 16 * 32 + 33 })
        _ = w.tables[1]!.grow(to: 1) { HostPhysicalAddress(0x7100_0000) }
        for ref in 0..<UInt32(17) { w.grant(1, ref: ref, flags: permit, to: 2, frame: 0x40000 + ref) }
        for ref in 0..<UInt32(16) { XCTAssertEqual(status(w.map(by: 2, ref: ref, of: 1, at: 0x3800_0000 + UInt64(ref) << 12)), .okay) }
        XCTAssertEqual(status(w.map(by: 2, ref: 16, of: 1, at: 0x3801_0000)), .noSpace)
        XCTAssertEqual(w.flags(1, ref: 16), permit, "GTF_reading/GTF_writing undone")
        XCTAssertNil(w.mapped[0x38010])
        XCTAssertEqual(w.unmap(by: 2, handle: 0, at: 0x3800_0000), .okay)
        XCTAssertEqual(status(w.map(by: 2, ref: 16, of: 1, at: 0x3801_0000)), .okay, "a freed active entry makes room")
    }
}
