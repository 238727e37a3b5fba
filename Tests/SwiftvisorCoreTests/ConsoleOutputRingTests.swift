import XCTest
@testable import SwiftvisorCore

/// A ring in ordinary memory, with the drain flag a plain Bool (the tests are single-threaded;
/// `onAcquire` lets a test act as another core appending while the flag is held).
final class FakeConsoleStorage: ConsoleOutputStorage {
    let capacity: Int
    var bytes: [UInt8]
    var produced: UInt64 = 0, consumed: UInt64 = 0
    var flagHeld = false
    var onRelease: (() -> Void)?

    init(capacity: Int) { self.capacity = capacity; bytes = Array(repeating: 0, count: capacity) }
    func loadByte(_ slot: Int) -> UInt8 { bytes[slot] }
    func storeByte(_ slot: Int, _ value: UInt8) { bytes[slot] = value }
    func loadProduced() -> UInt64 { produced }
    func storeProduced(_ value: UInt64) { produced = value }
    func loadConsumed() -> UInt64 { consumed }
    func storeConsumed(_ value: UInt64) { consumed = value }
    func tryAcquireDrain() -> Bool { if flagHeld { return false }; flagHeld = true; return true }
    func releaseDrain() { flagHeld = false; let f = onRelease; onRelease = nil; f?() }
}

final class ConsoleOutputRingTests: XCTestCase {
    func test_bytes_come_out_in_the_order_they_went_in_across_the_wrap() {
        let ring = ConsoleOutputRing(FakeConsoleStorage(capacity: 8))
        var out: [UInt8] = []
        for round in 0..<5 {
            for i in 0..<6 { XCTAssertTrue(ring.append(UInt8(round * 10 + i))) }
            XCTAssertEqual(ring.drain(budget: 100) { out.append($0) }, 6)
        }
        XCTAssertEqual(out, (0..<5).flatMap { r in (0..<6).map { UInt8(r * 10 + $0) } })
        XCTAssertTrue(ring.isEmpty)
    }

    func test_a_full_ring_refuses_bytes_and_keeps_what_it_holds() {
        let ring = ConsoleOutputRing(FakeConsoleStorage(capacity: 4))
        for b: UInt8 in 1...4 { XCTAssertTrue(ring.append(b)) }
        XCTAssertFalse(ring.append(5))
        XCTAssertEqual(ring.room, 0)
        var out: [UInt8] = []
        ring.drain(budget: 1) { out.append($0) }
        XCTAssertEqual(ring.room, 1)
        XCTAssertTrue(ring.append(6))
        ring.drain(budget: 10) { out.append($0) }
        XCTAssertEqual(out, [1, 2, 3, 4, 6])
    }

    func test_a_drain_sends_at_most_its_budget() {
        let ring = ConsoleOutputRing(FakeConsoleStorage(capacity: 1024))
        for i in 0..<1000 { ring.append(UInt8(truncatingIfNeeded: i)) }
        var n = 0
        XCTAssertEqual(ring.drain(budget: ConsoleOutputBudget.perProducingExit) { _ in n += 1 }, 512)
        XCTAssertEqual(n, 512)
        XCTAssertEqual(ring.count, 488)
    }

    func test_nothing_is_sent_while_another_core_holds_the_drain_flag() {
        let storage = FakeConsoleStorage(capacity: 16)
        let ring = ConsoleOutputRing(storage)
        ring.append(1)
        storage.flagHeld = true
        XCTAssertEqual(ring.drain(budget: 10) { _ in XCTFail("sent while another core drains") }, 0)
        XCTAssertEqual(ring.count, 1)
        XCTAssertTrue(storage.flagHeld, "the other core's flag is left alone")
    }

    func test_bytes_appended_while_the_flag_was_held_are_sent_after_it_is_released() {
        // Core A drains; core B appends and finds the flag taken; A must send B's bytes.
        let storage = FakeConsoleStorage(capacity: 16)
        let ring = ConsoleOutputRing(storage)
        ring.append(1)
        var out: [UInt8] = []
        // B's append is modelled at A's release (single thread): A's loop must look again.
        storage.onRelease = { [unowned storage] in
            storage.flagHeld = true   // B appends while A still holds it
            ring.append(2)
            storage.flagHeld = false
        }
        XCTAssertEqual(ring.drain(budget: 10) { out.append($0) }, 2)
        XCTAssertEqual(out, [1, 2])
        XCTAssertTrue(ring.isEmpty)
        XCTAssertFalse(storage.flagHeld)
    }

    func test_a_core_sends_its_own_line_after_its_exit_even_behind_another_cores_bytes() {
        // The input loss: core A (its guest then idle, A asleep) appended 30 bytes; core B then
        // appended the line that asks for input. After B's exit its line must be out, although
        // A's bytes were ahead of it and nobody else sends them.
        let storage = FakeConsoleStorage(capacity: 256)
        let ring = ConsoleOutputRing(storage)
        for _ in 0..<30 { ring.append(UInt8(ascii: "a")) }
        let line = Array("typist | hvc0: type a line\r\n".utf8)
        for b in line { ring.append(b) }
        let markB = ring.storage.loadProduced()
        var out: [UInt8] = []
        XCTAssertEqual(ring.drain(through: markB, budget: ConsoleOutputBudget.perProducingExit, wait: { XCTFail("no other drainer") }) { out.append($0) },
                       30 + line.count)
        XCTAssertEqual(Array(out.suffix(line.count)), line)
        XCTAssertFalse(ring.isWaiting(through: markB))
        XCTAssertTrue(ring.isEmpty)
    }

    func test_a_core_leaves_bytes_appended_after_its_own_to_their_core() {
        let storage = FakeConsoleStorage(capacity: 64)
        let ring = ConsoleOutputRing(storage)
        for b: UInt8 in 1...5 { ring.append(b) }
        let mark = storage.produced
        for b: UInt8 in 6...9 { ring.append(b) }   // another core's, after ours
        var out: [UInt8] = []
        XCTAssertEqual(ring.drain(through: mark, budget: 100, wait: {}) { out.append($0) }, 5)
        XCTAssertEqual(out, [1, 2, 3, 4, 5])
        XCTAssertEqual(ring.count, 4)
        XCTAssertFalse(ring.isWaiting(through: mark), "nothing of ours waits: no more to send at our exits")
    }

    func test_a_flooding_core_sends_at_most_its_budget_per_exit_and_the_rest_at_the_next() {
        let storage = FakeConsoleStorage(capacity: 2048)
        let ring = ConsoleOutputRing(storage)
        for i in 0..<1000 { ring.append(UInt8(truncatingIfNeeded: i)) }
        let mark = storage.produced
        var n = 0
        XCTAssertEqual(ring.drain(through: mark, budget: ConsoleOutputBudget.perProducingExit, wait: {}) { _ in n += 1 }, 512)
        XCTAssertTrue(ring.isWaiting(through: mark))
        XCTAssertEqual(ring.drain(through: mark, budget: ConsoleOutputBudget.perProducingExit, wait: {}) { _ in n += 1 }, 488)
        XCTAssertEqual(n, 1000)
        XCTAssertFalse(ring.isWaiting(through: mark))
    }

    func test_a_core_waits_while_another_holds_the_flag_and_stops_once_its_bytes_are_out() {
        // Core B's line is sent by core A, which holds the flag: B waits, sends nothing itself.
        let storage = FakeConsoleStorage(capacity: 64)
        let ring = ConsoleOutputRing(storage)
        for b: UInt8 in 1...8 { ring.append(b) }
        let mark = storage.produced
        storage.flagHeld = true
        var waits = 0
        let sent = ring.drain(through: mark, budget: 512, wait: {
            waits += 1
            // A sends everything, then gives the flag back.
            storage.consumed = storage.produced
            storage.flagHeld = false
        }) { _ in XCTFail("B sent a byte A sent") }
        XCTAssertEqual(sent, 0)
        XCTAssertEqual(waits, 1)
        XCTAssertFalse(ring.isWaiting(through: mark))
    }

    func test_guests_leave_room_for_the_hypervisors_messages() {
        let room = ConsoleOutputBudget.capacity
        XCTAssertTrue(ConsoleOutputBudget.admitsGuest(room - ConsoleOutputBudget.reservedForHypervisor, room: room))
        XCTAssertFalse(ConsoleOutputBudget.admitsGuest(1, room: ConsoleOutputBudget.reservedForHypervisor))
    }

    func test_drops_are_reported_once_then_counted_until_output_fits() {
        var drops = ConsoleOutputDrops()
        XCTAssertNil(drops.fits())
        XCTAssertTrue(drops.drop(80))
        XCTAssertFalse(drops.drop(40))
        XCTAssertFalse(drops.drop(1))
        XCTAssertEqual(drops.fits(), 121)
        XCTAssertNil(drops.fits())
        XCTAssertTrue(drops.drop(3), "a new episode is reported again")
    }
}
