import XCTest
@testable import SwiftvisorCore

/// Records the TLB maintenance a change asked for.
struct RecordingTLB: Stage2TLBMaintenance {
    var invalidated: [UInt64] = []
    mutating func invalidate(ipa: UInt64) { invalidated.append(ipa) }
}

final class Stage2ChangeTests: XCTestCase {
    func makeRAM() throws -> TranslationTable<FakeTableMemory> {
        var t = TranslationTable(memory: FakeTableMemory(), startLevel: 1)!
        try t.map(input: 0x4000_0000, output: HostPhysicalAddress(0x8000_0000), size: 4 << 20, attributes: Stage2Attributes.guestRAM)
        return t
    }

    func test_unmapping_a_page_in_a_block_splits_it_and_leaves_its_neighbours() throws {
        var t = try makeRAM()
        var tlb = RecordingTLB()
        XCTAssertEqual(try t.unmapPage(input: 0x4010_3000, tlb: &tlb), HostPhysicalAddress(0x8010_3000))
        XCTAssertNil(t.translate(0x4010_3000))
        XCTAssertEqual(t.translate(0x4010_2FFF)?.output, HostPhysicalAddress(0x8010_2FFF))
        XCTAssertEqual(t.translate(0x4010_4000)?.level, 3)
        XCTAssertEqual(t.translate(0x4000_0000)?.output, HostPhysicalAddress(0x8000_0000))
        // The other 2 MiB block is untouched.
        XCTAssertEqual(t.translate(0x4020_0000)?.level, 2)
        // Break-before-make: the block's IPA, then the page's.
        XCTAssertEqual(tlb.invalidated, [0x4000_0000, 0x4010_3000])
    }

    func test_split_pages_keep_the_blocks_attributes() throws {
        var t = try makeRAM()
        var tlb = RecordingTLB()
        let before = try XCTUnwrap(t.translate(0x4000_0000)).descriptor & ~0x0000_FFFF_FFFF_F003
        try t.splitBlock(containing: 0x4000_5000, tlb: &tlb)
        let after = try XCTUnwrap(t.translate(0x4000_5000))
        XCTAssertEqual(after.level, 3)
        XCTAssertEqual(after.descriptor & ~0x0000_FFFF_FFFF_F003, before)
        XCTAssertEqual(Stage2Attributes(descriptor: after.descriptor), .guestRAM)
        // Splitting again changes nothing and needs no maintenance.
        try t.splitBlock(containing: 0x4000_6000, tlb: &tlb)
        XCTAssertEqual(tlb.invalidated, [0x4000_0000])
    }

    func test_a_hole_takes_a_page_again_and_a_mapped_page_is_refused() throws {
        var t = try makeRAM()
        var tlb = RecordingTLB()
        _ = try t.unmapPage(input: 0x4000_1000, tlb: &tlb)
        let readOnly = Stage2Attributes(memory: .normal, access: .readOnly, executable: false)
        try t.mapPage(input: 0x4000_1000, output: HostPhysicalAddress(0x9000_0000), attributes: readOnly)
        XCTAssertEqual(t.translate(0x4000_1008)?.output, HostPhysicalAddress(0x9000_0008))
        XCTAssertEqual(Stage2Attributes(descriptor: t.translate(0x4000_1000)!.descriptor)?.access, .readOnly)
        XCTAssertThrowsError(try t.mapPage(input: 0x4000_1000, output: HostPhysicalAddress(0x9000_1000), attributes: readOnly))
        XCTAssertThrowsError(try t.mapPage(input: 0x4030_0000, output: HostPhysicalAddress(0x9000_1000), attributes: readOnly))
    }

    func test_unmapping_a_hole_changes_nothing() throws {
        var t = try makeRAM()
        var tlb = RecordingTLB()
        XCTAssertNil(try t.unmapPage(input: 0x3800_0000, tlb: &tlb))
        XCTAssertThrowsError(try t.unmapPage(input: 0x4000_0010, tlb: &tlb)) { XCTAssertEqual($0 as? MappingError, .misaligned) }
        XCTAssertEqual(tlb.invalidated, [])
    }

    func test_a_page_outside_ram_gets_its_own_tables() throws {
        var t = try makeRAM()
        try t.mapPage(input: 0x3800_0000, output: HostPhysicalAddress(0x9000_0000), attributes: Stage2Attributes.guestRAM)
        XCTAssertEqual(t.translate(0x3800_0000)?.level, 3)
        var tlb = RecordingTLB()
        XCTAssertEqual(try t.unmapPage(input: 0x3800_0000, tlb: &tlb), HostPhysicalAddress(0x9000_0000))
        XCTAssertEqual(tlb.invalidated, [0x3800_0000])
    }

    func test_a_split_without_table_memory_fails_and_keeps_the_block() throws {
        var t = try makeRAM()
        t.memory.limit = t.memory.tables.count
        var tlb = RecordingTLB()
        XCTAssertThrowsError(try t.unmapPage(input: 0x4000_1000, tlb: &tlb)) { XCTAssertEqual($0 as? MappingError, .outOfTableMemory) }
        XCTAssertEqual(t.translate(0x4000_1000)?.level, 2)
        XCTAssertEqual(tlb.invalidated, [])
    }
}
