import XCTest
@testable import SwiftvisorCore

/// The store ring (struct xenstore_domain_interface): what a guest may put there, well or badly.
final class XenstoreRingTests: XCTestCase {
    var server = XenstoreServer()

    override func setUp() {
        server = XenstoreServer()
        server.introduceGuest(1)
    }

    func readRequest(_ path: String, id: UInt32 = 7) -> [UInt8] {
        XenstoreWire.Header(type: XenstoreWire.MessageType.read.rawValue, requestID: id, transactionID: 0,
                            length: UInt32(path.utf8.count + 1)).bytes + Array(path.utf8) + [0]
    }

    func test_indexes_that_wrap_around_32_bits() {
        let guest = XenstoreGuest(server, domid: 1, startIndex: UInt32.max - 20)
        for i in 0..<50 { XCTAssertEqual(guest.read("name").text, "guest1", "\(i)") }
        XCTAssertLessThan(guest.page.loadWord(at: XenstoreRing.requestProducerOffset), 2000)
        XCTAssertEqual(guest.page.error, 0)
    }

    func test_a_message_arriving_in_pieces_is_answered_once_complete() {
        let guest = XenstoreGuest(server, domid: 1)
        let message = readRequest("domid")
        guest.put(Array(message[0..<5]))
        XCTAssertTrue(guest.service())          // consumed the bytes: the guest is told
        XCTAssertEqual(guest.replies, [])
        guest.put(Array(message[5..<18]))
        guest.service()
        XCTAssertEqual(guest.replies, [])
        guest.put(Array(message[18...]))
        guest.service()
        XCTAssertEqual(guest.replies.map(\.text), ["1"])
        XCTAssertEqual(guest.replies.first?.requestID, 7)
        XCTAssertFalse(guest.service())         // nothing new: no notification
    }

    func test_several_requests_at_once_are_answered_in_order() {
        let guest = XenstoreGuest(server, domid: 1)
        guest.put(readRequest("name", id: 1) + readRequest("domid", id: 2) + readRequest("nothing", id: 3))
        guest.service()
        XCTAssertEqual(guest.replies.map(\.requestID), [1, 2, 3])
        XCTAssertEqual(guest.replies.map(\.text), ["guest1", "1", "ENOENT\0"])
    }

    func test_a_reply_larger_than_the_ring_goes_out_as_the_guest_reads() {
        let guest = XenstoreGuest(server, domid: 1)
        let big = String(repeating: "v", count: 1800)
        XCTAssertNil(server.write(Array("/local/domain/1/data/big".utf8), value: Array(big.utf8)))
        guest.put(readRequest("data/big"))
        // Serve without letting the guest read: the ring fills, the rest waits.
        XCTAssertTrue(server.service(domid: 1, page: &guest.page))
        XCTAssertEqual(guest.page.loadWord(at: XenstoreRing.responseProducerOffset), XenstoreRing.size)
        guest.drain()
        guest.service()
        XCTAssertEqual(guest.replies.map(\.text), [big])
    }

    func test_replies_wait_when_the_guest_does_not_read_them() {
        let guest = XenstoreGuest(server, domid: 1)
        server.quota.outstandingRequests = 3
        XCTAssertNil(server.write(Array("/local/domain/1/data/big".utf8), value: [UInt8](repeating: 0x61, count: 1500)))
        for id in 1...5 { guest.put(readRequest("data/big", id: UInt32(id))) }
        _ = server.service(domid: 1, page: &guest.page)
        // Three replies queued (one partly in the ring), the other requests still in the ring.
        XCTAssertEqual(guest.page.loadWord(at: XenstoreRing.requestProducerOffset) &- guest.page.loadWord(at: XenstoreRing.requestConsumerOffset),
                       UInt32(2 * readRequest("data/big").count))
        for _ in 0..<20 { guest.service() }
        XCTAssertEqual(guest.replies.map(\.requestID), [1, 2, 3, 4, 5])
    }

    func test_a_message_longer_than_payload_max_ends_the_conversation() {
        let guest = XenstoreGuest(server, domid: 1)
        guest.put(XenstoreWire.Header(type: 2, requestID: 1, transactionID: 0, length: 4097).bytes)
        guest.service()
        XCTAssertEqual(guest.page.error, XenstoreRing.Failure.protocolViolation.rawValue)
        XCTAssertTrue(server.isIgnored(1))
        guest.put(readRequest("name"))
        XCTAssertFalse(guest.service())
        XCTAssertEqual(guest.replies, [])
        // Other guests are unaffected.
        server.introduceGuest(2)
        XCTAssertEqual(XenstoreGuest(server, domid: 2).read("name").text, "guest2")
    }

    func test_a_payload_of_exactly_payload_max_is_accepted() {
        let guest = XenstoreGuest(server, domid: 1)
        let r = guest.call(.write, [], raw: Array("data/x".utf8) + [0] + [UInt8](repeating: 0x61, count: 4096 - 7))
        XCTAssertEqual(r.strings, ["ENOSPC"])     // too big for the entry quota, but a fine message
        XCTAssertEqual(guest.page.error, 0)
    }

    func test_garbage_request_indexes_end_the_conversation() {
        let guest = XenstoreGuest(server, domid: 1)
        guest.page.storeWord(5000, at: XenstoreRing.requestProducerOffset)
        guest.service()
        XCTAssertEqual(guest.page.error, XenstoreRing.Failure.ringIndex.rawValue)
        XCTAssertTrue(server.isIgnored(1))
    }

    func test_garbage_response_indexes_end_the_conversation() {
        let guest = XenstoreGuest(server, domid: 1)
        guest.page.storeWord(2000, at: XenstoreRing.responseConsumerOffset)   // consumer ahead of producer
        guest.put(readRequest("name"))
        guest.service()
        XCTAssertEqual(guest.page.error, XenstoreRing.Failure.ringIndex.rawValue)
        XCTAssertEqual(guest.replies, [])
    }

    func test_a_change_by_one_guest_leaves_another_awaiting_service() {
        server.introduceGuest(2)
        let guest1 = XenstoreGuest(server, domid: 1)
        let guest2 = XenstoreGuest(server, domid: 2)
        XCTAssertEqual(guest1.call(.write, ["data/shared"]).strings, ["OK"])
        XCTAssertEqual(guest1.call(.setPerms, ["data/shared", "n1", "r2"]).strings, ["OK"])
        XCTAssertEqual(guest2.call(.watch, ["/local/domain/1/data/shared", "w"]).strings, ["OK"])
        XCTAssertEqual(server.domainsAwaitingService, [])
        XCTAssertEqual(guest1.call(.write, [], raw: Array("data/shared".utf8) + [0, 0x78]).strings, ["OK"])
        XCTAssertEqual(server.domainsAwaitingService, [2])
        XCTAssertTrue(guest2.service())
        XCTAssertEqual(guest2.events.last, ["/local/domain/1/data/shared", "w"])
        XCTAssertEqual(server.domainsAwaitingService, [])
        // The hypervisor's own changes too.
        server.requestShutdown(2, .reboot)
        XCTAssertEqual(server.domainsAwaitingService, [])   // guest 2 watches nothing of its own
    }

    func test_an_unknown_domain_is_not_served() {
        var page = ArrayRingPage()
        XCTAssertFalse(server.service(domid: 5, page: &page))
        XCTAssertFalse(server.service(domid: 0, page: &page))
    }

    func test_header_round_trip() {
        let h = XenstoreWire.Header(type: 2, requestID: 0x0102_0304, transactionID: 9, length: 12)
        XCTAssertEqual(h.bytes, [2, 0, 0, 0, 4, 3, 2, 1, 9, 0, 0, 0, 12, 0, 0, 0])
        XCTAssertEqual(XenstoreWire.Header(decoding: h.bytes), h)
    }
}
