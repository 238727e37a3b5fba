import Foundation
import XCTest
@testable import SwiftvisorHost

/// The PMU per vCPU (issue 11 §3) on both CPU models: Guests/pmucheck finds PMUv3 with N event
/// counters, sees its cycle counter count over a loop and stop once disabled, counts five
/// SW_INCR writes exactly (none while disabled), and gets one overflow interrupt as INTID 23
/// when a counter at 0xFFFFFFFF wraps, which its handler clears. Two guests pinned to core 0
/// each increment their counter 0 (SW_INCR) for 3 s and find it counted exactly their own
/// increments, though each was switched out while it counted. Under -icount (where QEMU's TCG
/// implements the instructions event), the instructions counted over a 100,000-iteration loop
/// of two instructions are 200,000 to 200,099.
final class PMUSystemTests: XCTestCase {
    static let machines = SystemTests.only([SystemTests.Machine(cpu: "cortex-a57"), SystemTests.Machine(cpu: "max")])
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")

    func run(_ machine: SystemTests.Machine, icount: Bool) throws -> (SystemRunner.Outcome, String) {
        var options = SystemRunner.Options()
        options.cpu = machine.cpu
        options.timeout = 120
        options.echo = false
        options.countInstructions = icount
        let o = try SystemRunner(log: { _ in }).run(systems.appendingPathComponent("pmu.toml"), options: options)
        return (o, "\n--- console ---\n" + o.lines.joined(separator: "\n"))
    }

    func check(_ o: SystemRunner.Outcome, _ what: String, _ log: String) {
        XCTAssertEqual(o.verdict, .success, what + log)
        for name in ["pmu", "pmu-a", "pmu-b"] {
            let lines = o.report.guestLines[name] ?? []
            XCTAssertFalse(lines.contains { $0.hasPrefix("FAIL") }, "\(what) \(name)" + log)
            XCTAssertEqual(lines.last, "0 failure(s)", "\(what) \(name)" + log)
        }
        let pmu = o.report.guestLines["pmu"] ?? []
        for check in ["cycles: the cycle counter counts", "sw_incr: five increments", "overflow: one interrupt (INTID 23)",
                      "overflow: cleared by the handler"] {
            XCTAssertTrue(pmu.contains("ok " + check), "\(what): \(check)" + log)
        }
        for name in ["pmu-a", "pmu-b"] {
            XCTAssertTrue((o.report.guestLines[name] ?? []).contains("ok isolation: counter 0 counted exactly this guest's increments"), "\(what) \(name)" + log)
        }
    }

    func test_each_guest_has_its_own_pmu() throws {
        for machine in Self.machines {
            let (o, log) = try run(machine, icount: false)
            check(o, machine.description, log)
        }
    }

    func test_the_instructions_event_counts_the_loop_under_icount() throws {
        guard let machine = Self.machines.first else { return }
        let (o, log) = try run(machine, icount: true)
        check(o, machine.description + " -icount", log)
        XCTAssertTrue((o.report.guestLines["pmu"] ?? []).contains("ok instructions: about the loop's 200000"), log)
    }
}
