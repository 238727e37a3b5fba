import XCTest
@testable import SwiftvisorCore

/// Table memory in a dictionary, so tests can see every descriptor written.
struct FakeTableMemory: TranslationTableMemory {
    var tables: [UInt64: [UInt64]] = [:]
    var next: UInt64 = 0x1000_0000
    var limit = 64

    mutating func allocateTable() -> HostPhysicalAddress? {
        guard tables.count < limit else { return nil }
        let a = next
        next += 0x1000
        tables[a] = [UInt64](repeating: 0, count: 512)
        return HostPhysicalAddress(a)
    }
    func readDescriptor(table: HostPhysicalAddress, index: Int) -> UInt64 { tables[table.rawValue]![index] }
    mutating func writeDescriptor(table: HostPhysicalAddress, index: Int, _ d: UInt64) { tables[table.rawValue]![index] = d }
}

final class TranslationTableTests: XCTestCase {
    func makeStage2() -> TranslationTable<FakeTableMemory> { TranslationTable(memory: FakeTableMemory(), startLevel: 1)! }

    func test_map_first_page() throws {
        var t = makeStage2()
        try t.map(input: 0x4000_0000, output: HostPhysicalAddress(0x8000_1000), size: 0x1000, attributes: Stage2Attributes.guestRAM)
        let r = try XCTUnwrap(t.translate(0x4000_0123))
        XCTAssertEqual(r.output, HostPhysicalAddress(0x8000_1123))
        XCTAssertEqual(r.level, 3)
        XCTAssertNil(t.translate(0x4000_1000))
        XCTAssertNil(t.translate(0x3FFF_F000))
    }

    func test_aligned_ranges_use_blocks() throws {
        var t = makeStage2()
        try t.map(input: 0x4000_0000, output: HostPhysicalAddress(0x8020_0000), size: 4 << 20, attributes: Stage2Attributes.guestRAM)
        XCTAssertEqual(t.translate(0x4030_0000)?.level, 2)
        XCTAssertEqual(t.translate(0x4030_0000)?.output, HostPhysicalAddress(0x8050_0000))
        try t.map(input: 0x8000_0000, output: HostPhysicalAddress(0xC000_0000), size: 1 << 30, attributes: Stage2Attributes.guestRAM)
        XCTAssertEqual(t.translate(0x8000_0000)?.level, 1)
    }

    func test_misaligned_output_falls_back_to_pages() throws {
        var t = makeStage2()
        try t.map(input: 0x4000_0000, output: HostPhysicalAddress(0x8000_1000), size: 2 << 20, attributes: Stage2Attributes.guestRAM)
        XCTAssertEqual(t.translate(0x401F_F000)?.level, 3)
        XCTAssertEqual(t.translate(0x401F_F000)?.output, HostPhysicalAddress(0x8020_0000))
    }

    func test_remapping_is_refused() throws {
        var t = makeStage2()
        try t.map(input: 0x4000_0000, output: HostPhysicalAddress(0x8000_0000), size: 2 << 20, attributes: Stage2Attributes.guestRAM)
        XCTAssertThrowsError(try t.map(input: 0x4010_0000, output: HostPhysicalAddress(0x9000_0000), size: 0x1000,
                                       attributes: Stage2Attributes.guestRAM)) { XCTAssertEqual($0 as? MappingError, .alreadyMapped(input: 0x4010_0000)) }
    }

    func test_bad_arguments() {
        var t = makeStage2()
        XCTAssertThrowsError(try t.map(input: 0x123, output: HostPhysicalAddress(0), size: 0x1000, attributes: Stage2Attributes.guestRAM))
        XCTAssertThrowsError(try t.map(input: 1 << 39, output: HostPhysicalAddress(0), size: 0x1000, attributes: Stage2Attributes.guestRAM)) {
            XCTAssertEqual($0 as? MappingError, .outOfRange)
        }
    }

    func test_running_out_of_table_memory() {
        var memory = FakeTableMemory()
        memory.limit = 2
        var t = TranslationTable(memory: memory, startLevel: 1)!
        XCTAssertThrowsError(try t.map(input: 0x4000_0000, output: HostPhysicalAddress(0x8000_0000), size: 0x1000,
                                       attributes: Stage2Attributes.guestRAM)) { XCTAssertEqual($0 as? MappingError, .outOfTableMemory) }
    }

    func test_stage2_permission_bits() throws {
        let ro = Stage2Attributes(memory: .normal, access: .readOnly, executable: false)
        var t = makeStage2()
        try t.map(input: 0x4000_0000, output: HostPhysicalAddress(0x8000_0000), size: 0x1000, attributes: ro)
        let d = try XCTUnwrap(t.translate(0x4000_0000)).descriptor
        XCTAssertEqual(Stage2Attributes(descriptor: d), ro)
        XCTAssertEqual(d >> 6 & 3, 0b01, "S2AP read-only")
        XCTAssertEqual(d >> 54 & 1, 1, "XN")
        XCTAssertEqual(d >> 10 & 1, 1, "AF")
        XCTAssertEqual(Stage2Attributes.guestRAM.descriptorBits >> 2 & 0xF, 0xF, "Normal write-back")
        XCTAssertEqual(Stage2Attributes(memory: .device, access: .readWrite, executable: false).descriptorBits >> 2 & 0xF, 0b0001)
    }

    func test_el2_identity_map_at_level0() throws {
        var t = TranslationTable(memory: FakeTableMemory(), startLevel: 0)!
        try t.map(input: 0x4000_0000, output: HostPhysicalAddress(0x4000_0000), size: 1 << 30,
                  attributes: EL2Stage1Attributes(memory: .normal, executable: true))
        XCTAssertEqual(t.translate(0x4123_4567)?.output, HostPhysicalAddress(0x4123_4567))
        XCTAssertEqual(t.translate(0x4000_0000)?.level, 1)
    }
}
