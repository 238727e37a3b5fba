import Foundation
import XCTest
@testable import SwiftvisorHost

/// Issue 11 §1, tried as an attacker would: guests that try to take more than their share of a
/// core, beside Guests/victim (spins with interrupts masked and reports how much of its time
/// it ran and its longest gap).
///
/// Every run is under QEMU `-icount shift=0,sleep=off`: QEMU then runs all vCPUs on one host
/// thread, round-robin, and the guests' counter follows the instructions executed (one per ns),
/// so the host's load (2 cores shared with builds moved shares by tens of percent) does not show
/// and the figures repeat to the millisecond, from run to run and on both CPU models. The
/// counter follows every core's instructions, so a victim on a core of a 2-core machine sees
/// the other core's turns as its own gaps (about half its time, by QEMU's round-robin, whoever
/// runs there): the booster tests therefore run on a one-core machine, where the victim's share
/// of its time is exactly its share of the core. (On two cores, the victim and the booster on
/// core 0 and the same victim beside a spinner on core 1, the victim read 18.6 % against the
/// baseline's 24 %, in two runs: the scheduler charges counter time, which there includes core
/// 1's turns, and QEMU ends a turn at every timer deadline and at every WFE (the hypervisor
/// lock's first instruction), so where core 1's turns fall depends on core 0's exits and
/// timers; probably the booster's 50 us timer, armed as it yields, hands core 1 a turn at the
/// start of each of the victim's slices. An artefact of the round-robin, not of the scheduler:
/// on one core the victim gets 55 %.)
///
/// Each test runs on one CPU model, and the models alternate between the attack tests (booster
/// and reboot loop on cortex-a57, weights and set/way on max): the scheduler and the lock are
/// the same code on both, the figures were the same on both when each test ran on both, and a
/// run under -icount is slow (one host thread for every core), so a second model doubled the
/// tests' time (the booster test 168 s) for nothing new.
final class FairShareSystemTests: XCTestCase {
    func run(_ system: String, cpu: String, cores: Int) throws -> SystemRunner.Outcome {
        try AttackSystems.run(system, cpu: cpu, countingInstructions: true, cores: cores)
    }

    /// Two attacks on a victim on a one-core machine, with equal weights, and the baseline: the
    /// same victim beside a plain spinner (fairshare-spinner.toml; it gets half the core, 499 ms
    /// of 1 s, with gaps of a 5 ms slice). Measured: beside the booster 554 ms, longest gap
    /// 4.5 ms; beside the SGI booster 334 ms (its third), longest gap 18.6 ms.
    ///
    /// 1. The booster runs 4 ms, arms its virtual timer 50 us ahead and WFIs, in a loop.
    ///    Asserts: the victim ran at least 40 % of the core (issue 11 §4; its fair share is
    ///    half), and its longest gap is at most twice the baseline's. (The round-robin scheduler,
    ///    which put a woken vCPU first, gave it 15 ms of 3,000.)
    /// 2. The booster's second vCPU wakes it with an SGI every 50 us: three busy vCPUs of equal
    ///    weight on the core, so the victim's fair share is a third. Asserts: it ran at least
    ///    90 % of a third of the core (30 %), and its longest gap is at most four times the
    ///    baseline's (two other vCPUs' slices, and the booster's wake-ups, between two of its).
    func test_a_booster_gets_no_more_than_its_share() throws {
        for cpu in SystemTests.only(["cortex-a57"]) {
            let b = try run("fairshare-spinner.toml", cpu: cpu, cores: 1)
            let baseLog = cpu + AttackSystems.log(b, "beside a spinner")
            XCTAssertEqual(b.verdict, .success, baseLog)
            let baseline = try AttackSystems.figures(b, "victim", baseLog)

            let o = try run("fairshare-booster.toml", cpu: cpu, cores: 1)
            let log = baseLog + AttackSystems.log(o, "beside the booster")
            XCTAssertEqual(o.verdict, .success, log)
            let victim = try AttackSystems.figures(o, "victim", log)
            XCTAssertTrue((o.report.guestLines["booster"] ?? []).contains { $0.hasPrefix("booster: ran ") }, log)
            print("FairShareSystemTests \(cpu): victim beside a spinner \(baseline.summary); beside the booster \(victim.summary)")
            XCTAssertGreaterThanOrEqual(victim.share, 400, "beside the booster" + log)
            XCTAssertLessThanOrEqual(victim.longestGapMicroseconds, 2 * baseline.longestGapMicroseconds, "beside the booster" + log)

            let s = try run("fairshare-sgi.toml", cpu: cpu, cores: 1)
            let sgiLog = baseLog + AttackSystems.log(s, "beside the SGI booster")
            XCTAssertEqual(s.verdict, .success, sgiLog)
            let attacked = try AttackSystems.figures(s, "victim", sgiLog)
            XCTAssertTrue((s.report.guestLines["booster"] ?? []).contains { $0.hasPrefix("booster: ran ") }, sgiLog)
            print("FairShareSystemTests \(cpu): victim beside the SGI booster \(attacked.summary)")
            XCTAssertGreaterThanOrEqual(attacked.share, 300, "beside the SGI booster" + sgiLog)
            XCTAssertLessThanOrEqual(attacked.longestGapMicroseconds, 4 * baseline.longestGapMicroseconds, "beside the SGI booster" + sgiLog)
        }
    }

    /// xl.cfg `weight` and `cap`, on a 2-core machine. Asserts: two spinning victims on core 0
    /// with weights 512 and 256 ran 2:1 within 10 % (issue 11 §4; both see core 1's turns as
    /// gaps alike, so their ratio is the core's split); a victim alone on core 1 with `cap = 25`
    /// ran, and at most 25 % of its time (its budget is 25 % of each 10 ms period of counter
    /// time; core 0's round-robin turns within it count as its gaps, so it reads less).
    /// Measured: 1239 and 621 ms of 2 s (1.995), the capped one 141 ms (7 %).
    func test_weights_give_shares_and_a_cap_holds() throws {
        for cpu in SystemTests.only(["max"]) {
            let o = try run("fairshare-weights.toml", cpu: cpu, cores: 2)
            let log = cpu + AttackSystems.log(o, "console")
            XCTAssertEqual(o.verdict, .success, log)
            let heavy = try AttackSystems.figures(o, "heavy", log), light = try AttackSystems.figures(o, "light", log)
            let capped = try AttackSystems.figures(o, "capped", log)
            print("FairShareSystemTests \(cpu): weight 512 \(heavy.summary); weight 256 \(light.summary); cap 25 \(capped.summary)")
            let ratio = Double(heavy.ranMilliseconds) / Double(max(light.ranMilliseconds, 1))
            XCTAssertTrue((1.8...2.2).contains(ratio), "weights 512:256 ran \(heavy.ranMilliseconds):\(light.ranMilliseconds) ms" + log)
            XCTAssertLessThanOrEqual(capped.share, 250, log)
            XCTAssertGreaterThan(capped.ranMilliseconds, 0, log)
        }
    }
}
