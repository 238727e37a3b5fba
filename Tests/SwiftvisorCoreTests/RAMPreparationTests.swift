import SwiftvisorCore
import XCTest

/// A rebooting VM's RAM is zeroed, then its images copied in, in pieces, one core at a time,
/// and counts as fresh only until the guest runs again.
final class RAMPreparationTests: XCTestCase {
    func test_pieces_cover_the_ram_in_order_and_the_last_is_short() {
        var p = RAMPreparation(size: 5 << 20, pieceSize: 2 << 20)
        p.plan([])
        var pieces: [RAMPreparation.Piece] = []
        while let piece = p.claim(core: 1) { pieces.append(piece); p.finish(core: 1, prepared: piece.length) }
        XCTAssertEqual(pieces, [.init(offset: 0, length: 2 << 20), .init(offset: 2 << 20, length: 2 << 20),
                                .init(offset: 4 << 20, length: 1 << 20)])
        XCTAssertTrue(p.isComplete)
    }

    func test_another_core_gets_no_piece_while_one_is_being_zeroed() {
        var p = RAMPreparation(size: 8 << 20, pieceSize: 2 << 20)
        XCTAssertNotNil(p.claim(core: 0))
        XCTAssertNil(p.claim(core: 1))
        p.finish(core: 0, prepared: 2 << 20)
        XCTAssertEqual(p.claim(core: 1)?.offset, 2 << 20)
    }

    func test_a_piece_stopped_early_for_an_interrupt_resumes_where_it_stopped() {
        var p = RAMPreparation(size: 8 << 20, pieceSize: 8 << 20)
        XCTAssertEqual(p.claim(core: 0), .init(offset: 0, length: 8 << 20))
        p.finish(core: 0, prepared: 2 << 20)
        XCTAssertFalse(p.isComplete)
        XCTAssertEqual(p.claim(core: 1), .init(offset: 2 << 20, length: 6 << 20))
    }

    func test_after_the_guest_ran_it_starts_over() {
        var p = RAMPreparation(size: 2 << 20, pieceSize: 2 << 20)
        p.plan([])
        _ = p.claim(core: 0); p.finish(core: 0, prepared: 2 << 20)
        XCTAssertTrue(p.isComplete)
        XCTAssertNil(p.claim(core: 0))
        p.restart()
        XCTAssertFalse(p.isComplete)
        XCTAssertEqual(p.claim(core: 0), .init(offset: 0, length: 2 << 20))
    }

    let kernel = RAMPreparation.Copy(source: 0x4800_0000, offset: 0x20_0000, length: 3 << 20)
    let initrd = RAMPreparation.Copy(source: 0x4900_0000, offset: 6 << 20, length: 1 << 20)

    func test_after_the_zeroing_each_image_is_copied_in_pieces_in_order() {
        var p = RAMPreparation(size: 8 << 20, pieceSize: 2 << 20)
        p.plan([kernel, .init(source: 0x4a00_0000, offset: 0, length: 0), initrd])
        var pieces: [RAMPreparation.Piece] = []
        while let piece = p.claim(core: 1) { pieces.append(piece); p.finish(core: 1, prepared: piece.length) }
        XCTAssertEqual(pieces.dropFirst(4), [.init(offset: 0x20_0000, length: 2 << 20, source: 0x4800_0000),
                                             .init(offset: 0x40_0000, length: 1 << 20, source: 0x4820_0000),
                                             .init(offset: 6 << 20, length: 1 << 20, source: 0x4900_0000)])
        XCTAssertTrue(pieces.prefix(4).allSatisfy { $0.source == nil })
        XCTAssertTrue(p.isComplete)
    }

    func test_zeroed_ram_is_not_ready_until_the_copies_are_planned_and_made() {
        var p = RAMPreparation(size: 2 << 20, pieceSize: 2 << 20)
        _ = p.claim(core: 0); p.finish(core: 0, prepared: 2 << 20)
        XCTAssertTrue(p.isZeroed)
        XCTAssertFalse(p.isComplete)
        XCTAssertNil(p.claim(core: 0))
        p.plan([.init(source: 0x4800_0000, offset: 0, length: 4096)])
        XCTAssertEqual(p.claim(core: 0), .init(offset: 0, length: 4096, source: 0x4800_0000))
        XCTAssertNil(p.claim(core: 1))
        p.finish(core: 0, prepared: 4096)
        XCTAssertTrue(p.isComplete)
    }

    func test_a_copy_stopped_early_resumes_at_the_same_byte_of_the_source() {
        var p = RAMPreparation(size: 8 << 20, pieceSize: 8 << 20)
        p.plan([kernel])
        _ = p.claim(core: 0); p.finish(core: 0, prepared: 8 << 20)
        XCTAssertEqual(p.claim(core: 0), .init(offset: 0x20_0000, length: 3 << 20, source: 0x4800_0000))
        p.finish(core: 0, prepared: 1 << 20)
        XCTAssertEqual(p.claim(core: 1), .init(offset: 0x30_0000, length: 2 << 20, source: 0x4810_0000))
    }

    func test_each_boot_copies_the_images_again() {
        var p = RAMPreparation(size: 8 << 20, pieceSize: 8 << 20)
        p.plan([kernel])
        while let piece = p.claim(core: 0) { p.finish(core: 0, prepared: piece.length) }
        p.restart()
        XCTAssertEqual(p.claim(core: 0), .init(offset: 0, length: 8 << 20))
        p.finish(core: 0, prepared: 8 << 20)
        XCTAssertEqual(p.claim(core: 0)?.source, 0x4800_0000)
    }
}
