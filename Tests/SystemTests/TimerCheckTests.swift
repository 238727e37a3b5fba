import XCTest
@testable import SwiftvisorHost

extension SystemTests {
    /// Issue 11 §3: the virtual and the emulated physical timer as on hardware. Asserts every
    /// check line of Guests/timercheck for both timers, on cortex-a57 and max (GICv3) and on
    /// the GICv2 machine.
    func test_timers_pending_state_follows_the_timer_condition() throws {
        let checks = ["not pending while disabled (expired compare value)", "not pending before it expires", "ISTATUS set once expired",
                      "pending when enabled, expired and unmasked", "CTL reads back as written (ENABLE, ISTATUS)",
                      "not pending after IMASK set", "CTL with IMASK reads back (ENABLE, IMASK, ISTATUS)", "pending again after IMASK cleared",
                      "not pending after ENABLE cleared", "CTL unchanged while its interrupt fired unseen", "still pending",
                      "interrupt delivered when unmasked", "CTL in the handler as the guest wrote it (ENABLE, ISTATUS)",
                      "not pending after the handler masked it", "interrupt delivered again when unmasked again",
                      "no interrupt while disabled", "CVAL reads back", "TVAL sets CVAL to counter + TVAL",
                      "TVAL counts down from what was written", "TVAL negative after expiry"]
        for machine in Self.only([Machine(cpu: "cortex-a57"), Machine(cpu: "max"), Self.gicv2]) {
            let what = machine.description
            let o = try run(systems.appendingPathComponent("timercheck.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic, timeout: 90)
            XCTAssertEqual(o.verdict, .success, what + log(o))
            let lines = o.report.guestLines["timercheck"] ?? []
            for timer in ["virtual", "physical"] {
                for c in checks { XCTAssertTrue(lines.contains("\(timer) timer: ok \(c)"), "\(timer) timer: \(c); " + what + log(o)) }
            }
            XCTAssertEqual(lines.last, "timercheck: 0 failure(s)", what + log(o))
            XCTAssertEqual(o.report.guestLines["hog"]?.last, "done hogging", what + log(o))
        }
    }
}
