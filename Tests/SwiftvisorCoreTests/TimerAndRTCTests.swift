import XCTest
@testable import SwiftvisorCore

/// The timers' level-sensitive lines (EmulatedTimer, list registers linked to a physical PPI)
/// and the emulated PL031 (issue 11 §3).
final class TimerAndRTCTests: XCTestCase {
    func test_emulated_timer_output_follows_enable_mask_and_condition() {
        var t = EmulatedTimer()
        t.write(.compareValue, 100, now: 0)
        XCTAssertFalse(t.sample(now: 200), "disabled: no output")
        t.write(.control, 0b11, now: 200)
        XCTAssertFalse(t.sample(now: 200), "masked: no output")
        t.write(.control, 0b01, now: 200)
        XCTAssertTrue(t.sample(now: 200), "enabled, unmasked, expired")
        XCTAssertNil(t.deadline, "no deadline while the line is high")
        XCTAssertEqual(t.read(.control, now: 200), 0b101, "CTL reads back as written, with ISTATUS")
        XCTAssertEqual(Int32(truncatingIfNeeded: t.read(.timerValue, now: 200)), -100, "TVAL negative after expiry")
        t.write(.timerValue, 50, now: 200)
        XCTAssertFalse(t.sample(now: 200))
        XCTAssertEqual(t.deadline, 250)
        XCTAssertFalse(t.fire(now: 249))
        XCTAssertTrue(t.fire(now: 250))
        XCTAssertFalse(t.fire(now: 300), "rises once")
    }

    func test_linked_list_register_and_withdrawal() {
        var gic = VirtualGIC(vcpuCount: 1)
        _ = gic.distributorAccess(MMIOAccess(offset: 0, width: 4, isWrite: true, value: 1 << 1))             // EnableGrp1
        _ = gic.redistributorAccess(frame: 0, MMIOAccess(offset: 0x1_0080, width: 4, isWrite: true, value: ~0))   // Group 1
        _ = gic.redistributorAccess(frame: 0, MMIOAccess(offset: 0x1_0100, width: 4, isWrite: true, value: 1 << 27 | 1 << 30))
        var lrs = ListRegisterFile(count: 4)
        lrs.linkedVirtualINTID = 27
        lrs.linkedPhysicalINTID = 27
        gic.setLine(27, high: true)
        gic.setLine(30, high: true)
        _ = lrs.refresh(&gic, vcpu: 0)
        let timer = lrs.registers.first { $0.virtualINTID == 27 }!
        XCTAssertTrue(timer.hardware)
        XCTAssertEqual(timer.physicalINTID, 27)
        XCTAssertEqual(ListRegister(gicv2: timer.gicv2), timer, "GICv2 GICH_LR keeps HW and PhysicalID")
        XCTAssertFalse(lrs.registers.first { $0.virtualINTID == 30 }!.hardware)
        // The guest masked the virtual timer before taking it: no longer pending anywhere.
        gic.setLine(27, high: false)
        lrs.withdraw(27, &gic, vcpu: 0)
        XCTAssertFalse(gic.state(27, vcpu: 0)!.pending || gic.state(27, vcpu: 0)!.inListRegister)
        _ = lrs.refresh(&gic, vcpu: 0)
        XCTAssertFalse(lrs.registers.contains { $0.virtualINTID == 27 && $0.state != .invalid })
        XCTAssertNotEqual(lrs.changed, 0, "the emptied register is written")
    }

    func test_pl031_clock_offset_alarm_and_identification() {
        var rtc = PL031()
        func read(_ offset: UInt64, at s: UInt32) -> UInt32 {
            UInt32(rtc.access(MMIOAccess(offset: offset, width: 4, isWrite: false), hostSeconds: s))
        }
        func write(_ offset: UInt64, _ v: UInt32, at s: UInt32) {
            _ = rtc.access(MMIOAccess(offset: offset, width: 4, isWrite: true, value: UInt64(v)), hostSeconds: s)
        }
        XCTAssertEqual(read(0x000, at: 1_000), 1_000, "RTCDR is the host's time")
        XCTAssertEqual((0..<8).map { read(0xFE0 + UInt64($0) * 4, at: 0) }, [0x31, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1])
        write(0x008, 5_000, at: 1_000)
        XCTAssertEqual(read(0x000, at: 1_010), 5_010, "RTCLR moves the clock, which counts on")
        XCTAssertEqual(read(0x008, at: 1_010), 5_000)
        write(0x004, 5_020, at: 1_010)
        XCTAssertEqual(rtc.matchIn(hostSeconds: 1_010), 10)
        XCTAssertFalse(rtc.interruptLine)
        rtc.matched()
        XCTAssertEqual(read(0x014, at: 1_020), 1, "RTCRIS")
        XCTAssertFalse(rtc.interruptLine, "masked")
        write(0x010, 1, at: 1_020)
        XCTAssertTrue(rtc.interruptLine)
        XCTAssertEqual(read(0x018, at: 1_020), 1, "RTCMIS")
        write(0x01C, 1, at: 1_020)
        XCTAssertFalse(rtc.interruptLine, "RTCICR clears it")
        let rebooted = PL031(clockOf: rtc)
        XCTAssertEqual(rebooted.data(hostSeconds: 1_030), 5_030, "a reboot keeps the clock")
        XCTAssertEqual(rebooted.match, 0)
    }
}
