import XCTest
@testable import SwiftvisorCore

/// The per-exit bound on the hypervisor's work for one store ring: a guest that keeps feeding
/// and draining its ring gets at most the budget served per call, and the rest later.
final class XenstoreRingBudgetTests: XCTestCase {
    func read(_ path: String, id: UInt32) -> [UInt8] {
        XenstoreWire.message(type: .read, requestID: id, transactionID: 0, payload: Array(path.utf8) + [0])
    }

    func test_requests_beyond_the_budget_wait_for_the_next_service() {
        let server = XenstoreServer()
        server.introduce(XenstoreDomainInfo(domid: 1, name: Array("g".utf8), uuid: [UInt8](repeating: 7, count: 16), vcpus: 1, memoryKiB: 1024))
        let guest = XenstoreGuest(server, domid: 1)
        // Ten 22-byte requests (220 bytes) in the ring; a 100-byte budget takes in 4 whole ones and part of a 5th.
        for id in 1...10 { guest.put(read("name", id: UInt32(id))) }
        var budget = XenstoreRingBudget(guest.page, requestBudget: 100)
        XCTAssertTrue(server.service(domid: 1, page: &budget))
        XCTAssertTrue(budget.exhausted)
        guest.page = budget.page
        XCTAssertEqual(guest.page.loadWord(at: XenstoreRing.requestConsumerOffset), 100, "only the budget consumed")
        guest.drain()
        XCTAssertEqual(guest.messages().map(\.requestID), [1, 2, 3, 4])
        // The next service (unbounded here) answers the rest, the partial request included.
        guest.service()
        XCTAssertEqual(guest.replies.map(\.requestID), Array(5...10))
        XCTAssertEqual(guest.replies.map(\.text), Array(repeating: "g", count: 6))
    }

    func test_responses_beyond_the_budget_wait_and_nothing_is_lost() {
        let server = XenstoreServer()
        server.introduce(XenstoreDomainInfo(domid: 1, name: Array("g".utf8), uuid: [UInt8](repeating: 7, count: 16), vcpus: 1, memoryKiB: 1024))
        let guest = XenstoreGuest(server, domid: 1, startIndex: 0xFFFF_FFF0)   // indexes that wrap
        for id in 1...5 { guest.put(read("name", id: UInt32(id))) }
        // Each reply is 16 + 2 bytes; 40 bytes of room: two whole replies and part of a third.
        var budget = XenstoreRingBudget(guest.page, responseBudget: 40)
        XCTAssertTrue(server.service(domid: 1, page: &budget))
        XCTAssertTrue(budget.exhausted)
        guest.page = budget.page
        XCTAssertEqual(guest.page.loadWord(at: XenstoreRing.responseProducerOffset) &- 0xFFFF_FFF0, 40)
        guest.drain()
        XCTAssertEqual(guest.messages().map(\.requestID), [1, 2])
        guest.service()
        XCTAssertEqual(guest.replies.map(\.requestID), [3, 4, 5])
        XCTAssertEqual(guest.page.error, 0)
    }

    func test_a_budget_the_ring_does_not_reach_changes_nothing() {
        let server = XenstoreServer()
        server.introduce(XenstoreDomainInfo(domid: 1, name: Array("g".utf8), uuid: [UInt8](repeating: 7, count: 16), vcpus: 1, memoryKiB: 1024))
        let guest = XenstoreGuest(server, domid: 1)
        guest.put(read("name", id: 1))
        var budget = XenstoreRingBudget(guest.page)
        XCTAssertTrue(server.service(domid: 1, page: &budget))
        XCTAssertFalse(budget.exhausted)
        guest.page = budget.page
        guest.drain()
        XCTAssertEqual(guest.messages().map(\.text), ["g"])
    }

    func test_garbage_indexes_still_reach_the_server() {
        let server = XenstoreServer()
        server.introduce(XenstoreDomainInfo(domid: 1, name: Array("g".utf8), uuid: [UInt8](repeating: 7, count: 16), vcpus: 1, memoryKiB: 1024))
        var page = ArrayRingPage()
        page.storeWord(0x10000, at: XenstoreRing.requestProducerOffset)   // 64 KiB beyond the consumer
        var budget = XenstoreRingBudget(page, requestBudget: 16)
        _ = server.service(domid: 1, page: &budget)
        XCTAssertEqual(budget.page.error, XenstoreRing.Failure.ringIndex.rawValue)
        XCTAssertTrue(server.isIgnored(1))
    }
}
