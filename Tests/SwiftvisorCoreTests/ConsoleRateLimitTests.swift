import XCTest
@testable import SwiftvisorCore

final class ConsoleRateLimitTests: XCTestCase {
    let frequency: UInt64 = 62_500_000

    func test_a_burst_goes_out_whole_then_bytes_are_dropped_and_counted() {
        var limit = ConsoleRateLimit()
        var printed: UInt64 = 0
        for _ in 0..<ConsoleRateLimit.burst where limit.admit(now: 100, frequency: frequency) == .print { printed += 1 }
        XCTAssertEqual(printed, ConsoleRateLimit.burst)
        XCTAssertEqual(limit.admit(now: 100, frequency: frequency), .drop(first: true))
        XCTAssertEqual(limit.admit(now: 101, frequency: frequency), .drop(first: false))
        XCTAssertEqual(limit.dropped, 2)
    }

    func test_output_resumes_at_the_rate_and_says_how_much_was_lost() {
        var limit = ConsoleRateLimit()
        for _ in 0..<ConsoleRateLimit.burst { _ = limit.admit(now: 0, frequency: frequency) }
        for _ in 0..<10 { _ = limit.admit(now: 0, frequency: frequency) }
        // Not before resumeAt bytes were earned back: no message for every byte earned.
        let early = frequency / ConsoleRateLimit.bytesPerSecond * 100
        XCTAssertEqual(limit.admit(now: early, frequency: frequency), .drop(first: false))
        // A second later: a second's bytes go out again.
        let later = frequency
        XCTAssertEqual(limit.admit(now: later, frequency: frequency), .printAfterDropping(11))
        var printed = 1
        while limit.admit(now: later, frequency: frequency) != .drop(first: true) { printed += 1 }
        XCTAssertEqual(Double(printed), Double(ConsoleRateLimit.bytesPerSecond), accuracy: 16)   // whole ticks per byte
    }

    func test_a_quiet_guest_gets_its_whole_burst_back() {
        var limit = ConsoleRateLimit()
        for _ in 0..<ConsoleRateLimit.burst { _ = limit.admit(now: 0, frequency: frequency) }
        let muchLater = frequency * 60
        var printed = 0
        while case .print = limit.admit(now: muchLater, frequency: frequency) { printed += 1 }
        XCTAssertEqual(UInt64(printed), ConsoleRateLimit.burst)
    }

    func test_a_chunk_written_while_over_the_rate_is_dropped_whole_and_counted() {
        var limit = ConsoleRateLimit()
        XCTAssertFalse(limit.dropsAll(128, now: 0, frequency: frequency), "under its rate: byte by byte")
        for _ in 0..<ConsoleRateLimit.burst { _ = limit.admit(now: 0, frequency: frequency) }
        XCTAssertFalse(limit.dropsAll(128, now: 0, frequency: frequency), "the first drop is reported by admit")
        XCTAssertEqual(limit.admit(now: 0, frequency: frequency), .drop(first: true))
        XCTAssertTrue(limit.dropsAll(128, now: 1, frequency: frequency))
        XCTAssertEqual(limit.dropped, 129)
        // A second later enough was earned back: byte by byte again, and the loss is told.
        XCTAssertFalse(limit.dropsAll(128, now: frequency, frequency: frequency))
        XCTAssertEqual(limit.admit(now: frequency, frequency: frequency), .printAfterDropping(129))
    }
}
