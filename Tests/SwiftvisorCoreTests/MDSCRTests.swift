import XCTest
@testable import SwiftvisorCore

/// The OS lock (Arm ARM D2.5): while a guest holds it, the hardware runs it with MDSCR_EL1's
/// MDE, KDE and SS clear, and the guest reads back what it wrote.
final class MDSCRTests: XCTestCase {
    func test_the_locked_hardware_value_enables_no_debug_exception() {
        var written = MDSCR()
        written.mde = true; written.kde = true; written.ss = true
        written.rawValue |= 1 << 12   // TDCC: not a debug exception enable, kept
        let hardware = MDSCR(rawValue: MDSCR.whileOSLocked(written.rawValue))
        XCTAssertFalse(hardware.mde); XCTAssertFalse(hardware.kde); XCTAssertFalse(hardware.ss)
        XCTAssertEqual(hardware.rawValue, 1 << 12)
        XCTAssertEqual(MDSCR.exceptionEnables, 0xA001, "bits 15, 13, 0")
    }

    func test_the_guest_reads_its_own_enables_and_the_hardwares_status() {
        let kept: UInt64 = 1 << 15 | 1 << 13 | 1
        let hardware: UInt64 = 1 << 30 | 1 << 29   // RXfull, TXfull: status the hardware owns
        XCTAssertEqual(MDSCR.guestView(hardware: hardware, kept: kept), hardware | kept)
        XCTAssertEqual(MDSCR.guestView(hardware: MDSCR.whileOSLocked(0xA001), kept: 0xA001), 0xA001)
        XCTAssertEqual(MDSCR.guestView(hardware: 0, kept: 0), 0, "reset: locked, nothing enabled")
    }
}
