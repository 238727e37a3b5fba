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
/// Host noise makes absolute shares meaningless here (the victim gets ~88 % of a core beside
/// a plain spinner on this 2-core host), so each CPU model first runs the same two guests
/// with the neighbour spinning plainly (the baseline), and the attack run must give the
/// victim at least 90 % of the baseline's share.
final class LockHoldSystemTests: XCTestCase {
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")

    struct VictimFigures {
        var ranMilliseconds: Int, totalMilliseconds: Int, longestGapMicroseconds: Int
        /// Per mille of its time that it ran.
        var share: Int { ranMilliseconds * 1000 / max(totalMilliseconds, 1) }
    }

    /// "victim: ran R ms of T ms (P %), longest gap G us, gaps over 1 ms: N".
    static func victimFigures(_ lines: [String]) -> VictimFigures? {
        guard let line = lines.last(where: { $0.hasPrefix("victim: ran ") }) else { return nil }
        let words = line.split(separator: " ")
        guard words.count >= 11, let ran = Int(words[2]), let total = Int(words[5]), let gap = Int(words[10]) else { return nil }
        return VictimFigures(ranMilliseconds: ran, totalMilliseconds: total, longestGapMicroseconds: gap)
    }

    func run(_ system: String, cpu: String) throws -> SystemRunner.Outcome {
        var options = SystemRunner.Options()
        options.cpu = cpu
        options.cores = 2
        options.timeout = 120
        options.echo = false
        return try SystemRunner(log: { _ in }).run(systems.appendingPathComponent(system), options: options)
    }

    func test_a_set_way_loop_does_not_starve_a_victim_on_the_other_core() throws {
        for cpu in SystemTests.only(["cortex-a57", "max"]) {
            let baseline = try run("lockhold-baseline.toml", cpu: cpu)
            let attack = try run("lockhold-setway.toml", cpu: cpu)
            let log = cpu + "\n--- baseline ---\n" + baseline.lines.joined(separator: "\n")
                + "\n--- set/way attack ---\n" + attack.lines.joined(separator: "\n")
            XCTAssertEqual(baseline.verdict, .success, log)
            XCTAssertEqual(attack.verdict, .success, log)
            guard let before = Self.victimFigures(baseline.report.guestLines["victim"] ?? []),
                  let during = Self.victimFigures(attack.report.guestLines["victim"] ?? []) else {
                XCTFail("no victim figures\n" + log); continue
            }
            print("LockHoldSystemTests \(cpu): victim beside a spinner ran \(before.share / 10) %, longest gap \(before.longestGapMicroseconds) us; "
                  + "beside the set/way loop \(during.share / 10) %, longest gap \(during.longestGapMicroseconds) us")
            XCTAssertGreaterThanOrEqual(during.share * 10, before.share * 9,
                                        "the victim keeps at least 90 % of its baseline share\n" + log)
            // The set/way loop asks for a clean of 256 MiB (~27 ms under QEMU) about every
            // round; done under the lock, the victim's exits waited for each.
            XCTAssertLessThan(during.longestGapMicroseconds, max(2 * before.longestGapMicroseconds, 20_000),
                              "the victim's longest gap stays near the baseline's\n" + log)
            // The attacker itself: its memory, written with caches on, reads back the same with
            // them off in every round (the cleans happened), and it ran to the end.
            let attacker = attack.report.guestLines["neighbour"] ?? []
            guard let summary = attacker.last(where: { $0.hasPrefix("setway: ") && $0.contains(" rounds of ") }) else {
                XCTFail("no set/way summary\n" + log); continue
            }
            let words = summary.split(separator: " ")
            XCTAssertTrue(words.count >= 2 && Int(words[1]).map { $0 > 0 } == true, summary)
            XCTAssertTrue(summary.hasSuffix(": \(words[1]) of \(words[1])"), "every round read back intact: " + summary)
        }
    }
}
