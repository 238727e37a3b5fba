import XCTest
@testable import SwiftvisorCore

/// A ring page in a test's buffer; both sides run on one thread, so barriers do nothing.
final class TestRingPage: SharedRingPage {
    var bytes = [UInt8](repeating: 0, count: 4096)
    func load8(_ offset: Int) -> UInt8 { bytes[offset] }
    func store8(_ offset: Int, _ value: UInt8) { bytes[offset] = value }
    func load32(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) } }
    func store32(_ offset: Int, _ value: UInt32) { for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) } }
    func readBarrier() {}
    func fullBarrier() {}
}

final class XenConsoleRingTests: XCTestCase {
    /// What a guest's hvc_xen does: copy into `out` at out_prod, then advance it.
    func guestWrites(_ page: TestRingPage, _ text: String) {
        var prod = page.load32(3084)
        for b in text.utf8 { page.store8(1024 + Int(prod % 2048), b); prod &+= 1 }
        page.store32(3084, prod)
    }

    func drain(_ page: TestRingPage, limit: Int = 2048) -> String {
        var out = [UInt8]()
        XenConsoleRing.drainOutput(page, limit: limit) { out.append($0) }
        return String(decoding: out, as: UTF8.self)
    }

    func testOutputIsConsumedInOrderAndAcrossTheWrap() {
        let page = TestRingPage()
        // Indexes near 2^32 and near the end of the ring: both wraps at once.
        page.store32(3080, UInt32.max - 2); page.store32(3084, UInt32.max - 2)
        guestWrites(page, "hello, hvc0\n")
        XCTAssertEqual(XenConsoleRing.pendingOutput(page), 12)
        XCTAssertEqual(drain(page), "hello, hvc0\n")
        XCTAssertEqual(page.load32(3080), page.load32(3084))
        XCTAssertEqual(drain(page), "")
    }

    func testALimitLeavesTheRestForLater() {
        let page = TestRingPage()
        guestWrites(page, "abcdef")
        XCTAssertEqual(drain(page, limit: 4), "abcd")
        XCTAssertEqual(drain(page), "ef")
    }

    func testGarbageIndexesAreIgnored() {
        let page = TestRingPage()
        page.store32(3080, 0); page.store32(3084, 4097)   // claims more than the ring holds
        XCTAssertEqual(drain(page), "")
        XCTAssertEqual(page.load32(3080), 0, "nothing consumed")
        XCTAssertEqual(XenConsoleRing.pendingOutput(page), 0)
    }

    func testInputFillsTheRingAndNoMore() {
        let page = TestRingPage()
        page.store32(3072, 1000); page.store32(3076, 1000)
        XCTAssertEqual(XenConsoleRing.pushInput(page, Array("ls\r".utf8)), 3)
        XCTAssertEqual(page.load32(3076), 1003)
        XCTAssertEqual([page.bytes[1000], page.bytes[1001], page.bytes[1002]], Array("ls\r".utf8))
        XCTAssertEqual(XenConsoleRing.pushInput(page, [UInt8](repeating: 0x61, count: 2000)), 1021)
        XCTAssertEqual(page.bytes[(1003 + 30) % 1024], 0x61, "wrapped to the start of in[]")
        XCTAssertEqual(XenConsoleRing.pushInput(page, [0x62]), 0, "full")
        page.store32(3072, 1003 + 1021)   // the guest read everything
        XCTAssertEqual(XenConsoleRing.pushInput(page, [0x62]), 1)
    }

    func testInputWithGarbageIndexesWritesNothing() {
        let page = TestRingPage()
        page.store32(3072, 5000); page.store32(3076, 0)
        XCTAssertEqual(XenConsoleRing.pushInput(page, [1, 2, 3]), 0)
        XCTAssertEqual(page.bytes[0..<4], [0, 0, 0, 0])
    }
}
