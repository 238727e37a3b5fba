import XCTest
@testable import SwiftvisorCore

/// When a core's EL2 timer (CNTHP) is armed: the earliest of its slice end and the timers kept
/// in software.
final class TimerDeadlinesTests: XCTestCase {
    func test_the_earliest_deadline_wins() {
        var d = TimerDeadlines(sliceEnd: 5_000)
        d.include(7_000)
        d.include(nil)
        XCTAssertEqual(d.earliest, 5_000)
        d.include(4_000)
        XCTAssertEqual(d.earliest, 4_000)
        XCTAssertEqual(d.hypervisorTimerControl, .armed)
    }

    func test_an_idle_core_with_no_software_timer_disarms_cnthp() {
        var d = TimerDeadlines(sliceEnd: UInt64.max)
        XCTAssertNil(d.earliest)
        XCTAssertEqual(d.hypervisorTimerControl, .disabled)
        d.include(nil)
        XCTAssertNil(d.earliest)
        d.include(123)
        XCTAssertEqual(d.earliest, 123, "an idle core still wakes for a guest's timer")
    }

    func test_a_virtual_timer_fires_at_cval_plus_cntvoff_when_enabled_and_unmasked() {
        let enabled = TimerControl(rawValue: 0b01)
        XCTAssertEqual(TimerDeadlines.virtualTimer(control: enabled, compareValue: 1_000, offset: 50_000), 51_000)
        XCTAssertNil(TimerDeadlines.virtualTimer(control: TimerControl(rawValue: 0b11), compareValue: 1_000, offset: 0), "IMASK")
        XCTAssertNil(TimerDeadlines.virtualTimer(control: TimerControl(rawValue: 0b00), compareValue: 1_000, offset: 0), "disabled")
        XCTAssertEqual(TimerDeadlines.virtualTimer(control: TimerControl(rawValue: 0b101), compareValue: 1, offset: 2), 3,
                       "ISTATUS as saved does not matter")
        XCTAssertEqual(TimerDeadlines.virtualTimer(control: enabled, compareValue: UInt64.max, offset: 2), 1, "wraps as the counter does")
    }

    func test_a_deadline_has_passed_from_its_counter_value_on() {
        XCTAssertFalse(TimerDeadlines.hasPassed(100, now: 99))
        XCTAssertTrue(TimerDeadlines.hasPassed(100, now: 100))
        XCTAssertFalse(TimerDeadlines.hasPassed(nil, now: UInt64.max))
    }
}
