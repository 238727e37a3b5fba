import XCTest
@testable import SwiftvisorCore

final class UARTLinePacingTests: XCTestCase {
    /// 115200 baud on a 1 MHz counter: a byte every 86 ticks (10 bits); a 32-byte FIFO fills
    /// at once, then each byte waits for one to leave; 16 KiB take 1.4 s, as on hardware.
    func test_bytes_leave_at_the_line_rate_after_the_fifo_fills() throws {
        var p = try XCTUnwrap(UARTLinePacing(baud: 115_200, counterFrequency: 1_000_000))
        XCTAssertEqual(p.ticksPerByte, 86)
        var now: UInt64 = 1000
        for _ in 0..<32 {
            XCTAssertEqual(p.writableAt(now: now), now, "the FIFO takes 32 bytes at once")
            p.wrote(at: now)
        }
        XCTAssertEqual(p.writableAt(now: now), now + 86, "the 33rd waits for the first to leave")
        for _ in 32..<16_384 {
            now = p.writableAt(now: now)
            p.wrote(at: now)
        }
        XCTAssertEqual(Double(p.lineFreeAt - 1000) / 1_000_000, 1.41, accuracy: 0.01)
    }

    func test_an_idle_line_takes_a_byte_at_once() throws {
        var p = try XCTUnwrap(UARTLinePacing(baud: 9600, counterFrequency: 62_500_000))
        p.wrote(at: 10)
        XCTAssertEqual(p.writableAt(now: 1_000_000_000), 1_000_000_000)
        XCTAssertNil(UARTLinePacing(baud: 0, counterFrequency: 62_500_000))
    }
}
