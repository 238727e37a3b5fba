import Foundation
import XCTest
@testable import SwiftvisorHost

/// Issue 11 §1: nothing a guest triggers holds the hypervisor lock for long. A guest that loops
/// on set/way cache maintenance (Guests/setway: DC CISW sweeps, caches off and on, 256 MiB of
/// RAM) runs on core 0 beside Guests/victim on core 1, which spins with interrupts masked and
/// measures how much of its time it ran and its longest gap. Before set/way was emulated as
/// KVM does, each sweep cleaned all of the guest's RAM under the lock, and the victim waited
/// for it on its own exits.
///
/// The set/way test runs under QEMU `-icount shift=0,sleep=off` (one host thread runs both
/// cores round-robin, the counter follows the instructions executed): the host's load, which
/// moved the victim's share between 13 and 88 % of a core, does not show, and a core waiting
/// for the lock (WFE, a yield under QEMU's round-robin) leaves its turn to the holder, so a
/// long hold shows as the victim's gap. Since the counter follows both cores, the victim beside
/// a plain spinner (the baseline, lockhold-baseline.toml) gets about half of the counter's time,
/// with gaps of the other core's turns (5 ms): each CPU model runs the baseline and the attack
/// once, and the attack must leave the victim at least 90 % of the baseline's share (issue 11
/// §4), with a longest gap at most twice the baseline's.
///
/// What the figures mean under -icount: `hypervisor_lock` starts with SEVL; WFE, and under
/// QEMU's round-robin (no MTTCG) every WFE ends the core's turn, even when the lock is free. The
/// set/way guest takes the lock on many of its exits, so its core gets short turns and the
/// victim most of the counter (959 ms of 1 s against 554 ms beside the plain spinner, longest
/// gaps 5.08 and 5.00 ms, the same on both CPU models and from run to run): the share bound
/// is easily met. A long hold would still show, as the victim's gap: the victim's core,
/// waiting for the lock, yields every turn to the holder, whose work then runs in counter time
/// (cleaning 256 MiB by VA under the lock is some 16 M instructions, 16 ms, against the bound
/// of twice the baseline's 5 ms). Checked: with SetWay's clean kept under the lock, the victim
/// read 647 ms with a longest gap of 21.0 ms, and this test failed on the gap.
final class LockHoldSystemTests: XCTestCase {
    /// The victim's figures among its console lines (Support/VictimFigures.swift).
    static func victimFigures(_ lines: [String]) -> VictimFigures? { VictimFigures(lines) }

    func run(_ system: String, cpu: String) throws -> SystemRunner.Outcome {
        try AttackSystems.run(system, cpu: cpu)
    }

    func test_a_set_way_loop_does_not_starve_a_victim_on_the_other_core() throws {
        try victimKeepsItsShare(beside: "lockhold-setway.toml") { summary in
            // Its memory, written with caches on, reads back the same with them off in every
            // round (the cleans happened), and it ran to the end.
            let words = summary.split(separator: " ")
            guard words.count >= 2, summary.contains(" rounds of "), let rounds = Int(words[1]), rounds > 0 else { return false }
            return summary.hasSuffix(": \(rounds) of \(rounds)")
        }
    }

    /// Runs the victim beside a plain spinner (the baseline) and beside the attacker in
    /// `system` ("neighbour"), both under -icount, whose last line must satisfy `attackerDone`.
    /// The victim must get at least 90 % of the baseline's share, with its longest gap at most
    /// twice the baseline's.
    func victimKeepsItsShare(beside system: String, attackerDone: (String) -> Bool) throws {
        // One CPU model (max; the booster and reboot-loop tests run on cortex-a57): the figures
        // were the same on both, and each -icount run of 256 MiB guests takes about a minute.
        for cpu in SystemTests.only(["max"]) {
            let baseline = try AttackSystems.run("lockhold-baseline.toml", cpu: cpu, countingInstructions: true)
            let attack = try AttackSystems.run(system, cpu: cpu, countingInstructions: true)
            let log = cpu + AttackSystems.log(baseline, "baseline", last: 40) + AttackSystems.log(attack, "attack", last: 40)
            XCTAssertEqual(baseline.verdict, .success, log)
            XCTAssertEqual(attack.verdict, .success, log)
            let attacker = (attack.report.guestLines["neighbour"] ?? []).last ?? ""
            XCTAssertTrue(attackerDone(attacker), "the attacker's summary: " + attacker + "\n" + log)
            let before = try AttackSystems.figures(baseline, "victim", log), during = try AttackSystems.figures(attack, "victim", log)
            let figures = "\(cpu): victim beside a spinner \(before.summary); beside \(system) \(during.summary)"
            print("LockHoldSystemTests " + figures)
            XCTAssertGreaterThanOrEqual(during.share * 10, before.share * 9, figures + log)
            XCTAssertLessThanOrEqual(during.longestGapMicroseconds, 2 * before.longestGapMicroseconds, figures + log)
        }
    }
}
