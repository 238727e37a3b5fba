import XCTest
@testable import SwiftvisorHost

extension SystemTests {
    /// Issue 11 §3: the virtual GIC's pending and active registers read what the guest did with
    /// an interrupt a list register holds (they read "pending" for as long as an LR held it,
    /// even while the guest was handling it). Asserts every check line of Guests/giccheck on a
    /// GICv3 (cortex-a57) and on the GICv2 machine.
    func test_gic_pending_and_active_registers_follow_the_guest() throws {
        let checks = ["pending, not active, before it is taken", "active, not pending, in its handler",
                      "pending and active when sent again in its handler", "taken again after its handler completed it",
                      "neither pending nor active once completed"]
        for machine in Self.only([Machine(cpu: "cortex-a57"), Self.gicv2]) {
            let what = machine.description
            let o = try run(systems.appendingPathComponent("giccheck.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic, timeout: 60)
            XCTAssertEqual(o.verdict, .success, what + log(o))
            let lines = o.report.guestLines["giccheck"] ?? []
            for c in checks { XCTAssertTrue(lines.contains("gic: ok \(c)"), c + "; " + what + log(o)) }
            XCTAssertEqual(lines.last, "giccheck: 0 failure(s)", what + log(o))
        }
    }
}
