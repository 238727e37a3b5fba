import Foundation
import XCTest
@testable import SwiftvisorHost

/// Issue 11 §1, tried as an attacker would: guests that try to take more than their share of a
/// core, beside Guests/victim (spins with interrupts masked and reports how much of its time
/// it ran). QEMU's vCPU threads share the host's cores with other work, so a victim's share is
/// compared with a baseline measured in the same run where one exists; the bounds are wide.
final class FairShareSystemTests: XCTestCase {
    func run(_ system: String, cpu: String) throws -> SystemRunner.Outcome {
        try AttackSystems.run(system, cpu: cpu)
    }

    func report(_ o: SystemRunner.Outcome, _ guest: String, _ log: String) throws -> VictimFigures {
        try AttackSystems.figures(o, guest, log)
    }

    /// Two attacks on a victim pinned to core 0, with equal weights:
    ///
    /// 1. The booster runs 4 ms, arms its virtual timer 50 us ahead and WFIs, in a loop, on the
    ///    victim's core. On core 1, in the same run, the same victim beside a plain spinner (the
    ///    baseline: half of core 1, less the host's stalls). Asserts: the victim ran at least
    ///    80 % of what the baseline ran, i.e. it got about its half of core 0 too (the round-robin
    ///    scheduler, which put a woken vCPU first, gave it 15 ms of 3,000; a 2.5 ms wake-up
    ///    credit for a 50 us nap let the booster take the core back 50 us after each nap).
    /// 2. The booster's second vCPU (on either core) wakes it with an SGI every 50 us. Asserts:
    ///    the victim's share of its time is at least half the baseline's share of run 1 (three
    ///    busy vCPUs on two cores: its fair share is one half to two thirds of core 0), and it
    ///    was never switched out for a second or more.
    ///
    /// (QEMU's vCPU threads share the host's two cores with other work: on a loaded host the
    /// baseline itself runs well under 50 %, hence the comparisons instead of fixed shares.)
    func test_a_booster_gets_no_more_than_its_share() throws {
        for cpu in SystemTests.only(["cortex-a57", "max"]) {
            let o = try run("fairshare-booster.toml", cpu: cpu)
            let log = cpu + "\n--- console ---\n" + o.lines.joined(separator: "\n")
            XCTAssertEqual(o.verdict, .success, log)
            let victim = try report(o, "victim", log), baseline = try report(o, "baseline", log)
            XCTAssertTrue((o.report.guestLines["booster"] ?? []).contains { $0.hasPrefix("booster: ran ") }, log)
            XCTAssertGreaterThanOrEqual(victim.ranMilliseconds * 10, baseline.ranMilliseconds * 8, "beside the booster vs beside a spinner" + log)

            let s = try run("fairshare-sgi.toml", cpu: cpu)
            let sgiLog = cpu + "\n--- console ---\n" + s.lines.joined(separator: "\n") + "\n--- baseline run ---\n" + log
            XCTAssertEqual(s.verdict, .success, sgiLog)
            let attacked = try report(s, "victim", sgiLog)
            XCTAssertTrue((s.report.guestLines["booster"] ?? []).contains { $0.hasPrefix("booster: ran ") }, sgiLog)
            XCTAssertGreaterThanOrEqual(attacked.percent * 2, baseline.percent, "beside the SGI booster vs the baseline" + sgiLog)
            XCTAssertLessThan(attacked.longestGapMicroseconds, 1_000_000, sgiLog)
        }
    }

    /// xl.cfg `weight` and `cap`. Asserts: two spinning victims on one core with weights 512 and
    /// 256 ran in a ratio of 1.2 to 3 (the heavier clearly ahead); a victim alone on the other
    /// core with `cap = 25` ran at most 30 % of its time (and ran). The exact 2:1 (within 5 %)
    /// is CreditSchedulerTests' (a fake clock): on this loaded host QEMU's vCPU threads stall
    /// for up to 2 s at a time while the victims run about 1 s in all, and runs gave 1.3 to 2.3.
    func test_weights_give_shares_and_a_cap_holds() throws {
        for cpu in SystemTests.only(["cortex-a57", "max"]) {
            let o = try run("fairshare-weights.toml", cpu: cpu)
            let log = cpu + "\n--- console ---\n" + o.lines.joined(separator: "\n")
            XCTAssertEqual(o.verdict, .success, log)
            let heavy = try report(o, "heavy", log), light = try report(o, "light", log), capped = try report(o, "capped", log)
            let ratio = Double(heavy.ranMilliseconds) / Double(max(light.ranMilliseconds, 1))
            XCTAssertTrue((1.2...3.0).contains(ratio), "weights 512:256 ran \(heavy.ranMilliseconds):\(light.ranMilliseconds) ms" + log)
            XCTAssertLessThanOrEqual(capped.percent, 30, log)
            XCTAssertGreaterThan(capped.ranMilliseconds, 0, log)
        }
    }
}
