import SwiftvisorCore
import XCTest

/// A rebooting VM's RAM is zeroed in pieces, one core at a time, and counts as fresh only
/// until the guest runs again.
final class RAMPreparationTests: XCTestCase {
    func test_pieces_cover_the_ram_in_order_and_the_last_is_short() {
        var p = RAMPreparation(size: 5 << 20, pieceSize: 2 << 20)
        var pieces: [RAMPreparation.Piece] = []
        while let piece = p.claim(core: 1) { pieces.append(piece); p.finish(core: 1, zeroed: piece.length) }
        XCTAssertEqual(pieces, [.init(offset: 0, length: 2 << 20), .init(offset: 2 << 20, length: 2 << 20),
                                .init(offset: 4 << 20, length: 1 << 20)])
        XCTAssertTrue(p.isComplete)
    }

    func test_another_core_gets_no_piece_while_one_is_being_zeroed() {
        var p = RAMPreparation(size: 8 << 20, pieceSize: 2 << 20)
        XCTAssertNotNil(p.claim(core: 0))
        XCTAssertNil(p.claim(core: 1))
        p.finish(core: 0, zeroed: 2 << 20)
        XCTAssertEqual(p.claim(core: 1)?.offset, 2 << 20)
    }

    func test_a_piece_stopped_early_for_an_interrupt_resumes_where_it_stopped() {
        var p = RAMPreparation(size: 8 << 20, pieceSize: 8 << 20)
        XCTAssertEqual(p.claim(core: 0), .init(offset: 0, length: 8 << 20))
        p.finish(core: 0, zeroed: 2 << 20)
        XCTAssertFalse(p.isComplete)
        XCTAssertEqual(p.claim(core: 1), .init(offset: 2 << 20, length: 6 << 20))
    }

    func test_after_the_guest_ran_it_starts_over() {
        var p = RAMPreparation(size: 2 << 20, pieceSize: 2 << 20)
        _ = p.claim(core: 0); p.finish(core: 0, zeroed: 2 << 20)
        XCTAssertTrue(p.isComplete)
        XCTAssertNil(p.claim(core: 0))
        p.restart()
        XCTAssertFalse(p.isComplete)
        XCTAssertEqual(p.claim(core: 0), .init(offset: 0, length: 2 << 20))
    }
}
