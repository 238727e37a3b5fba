import Foundation
import SwiftvisorCore
import SwiftvisorHost
import XCTest

/// Issue 11 §1, the reboot loop: Guests/rebooter (512 MiB, core 1) asks for PSCI SYSTEM_RESET
/// at every boot, so its RAM is zeroed again and again until `VMLifecycle.maximumBoots` (10)
/// stops it, while Guests/victim spins with interrupts masked on core 0 and measures how much
/// of 3 s it ran and its longest gap. The zeroing runs in 2 MiB pieces with the hypervisor lock
/// released on the rebooter's own core, so the victim's exits never wait for it. The baseline
/// is the victim beside a plain spinner on core 1 (host noise: shared/PLATFORM.md).
final class RebootLoopSystemTests: XCTestCase {
    func victim(_ o: SystemRunner.Outcome) -> VictimFigures? { VictimFigures(o, "victim") }

    func run(_ system: String, cpu: String) throws -> SystemRunner.Outcome {
        try AttackSystems.run(system, cpu: cpu)
    }

    /// Rounds of (baseline, attack) at most: the host's load moves the victim's share between
    /// runs by more than the 10 % allowed (beside the spinner alone it read 23 to 33 % on a
    /// 2-core host shared with builds), so a round whose attack run meets the bound against
    /// its own baseline passes. Before the zeroing left the lock no round could: the victim
    /// ran 8 ms of 3 s (0 %), with a 1.6 s gap.
    static let rounds = 3

    func test_a_reboot_loop_does_not_stall_a_guest_on_another_core() throws {
        // Not under -icount: the counter would follow both cores' instructions.
        for cpu in SystemTests.only(["cortex-a57"]) {
            var figures: [String] = []
            var passed = false
            for _ in 0..<Self.rounds where !passed {
                let base = try run("reboot-loop-baseline.toml", cpu: cpu)
                let baseLog = cpu + " baseline\n--- console ---\n" + base.lines.joined(separator: "\n")
                XCTAssertEqual(base.verdict, .success, baseLog)
                let baseline = try XCTUnwrap(victim(base), baseLog)

                let o = try run("reboot-loop.toml", cpu: cpu)
                let log = cpu + " (baseline: \(baseline.percent) %, longest gap \(baseline.longestGapMicroseconds) us)\n--- console ---\n"
                    + o.lines.joined(separator: "\n")
                XCTAssertNil(o.report.panic, log)
                XCTAssertEqual(o.report.outcomes["victim"], .shutDown(reason: "poweroff", exitCode: 0), log)
                // Every boot up to the limit happened: nine reboots, each zeroing 512 MiB.
                let boots = (o.report.guestLines["rebooter"] ?? []).filter { $0.hasPrefix("rebooter: boot ") && $0.hasSuffix(", resetting") }
                XCTAssertEqual(boots.count, VMLifecycle.maximumBoots, log)
                XCTAssertTrue(boots.contains("rebooter: boot \(VMLifecycle.maximumBoots), resetting"), log)
                guard case .stopped(let cause)? = o.report.outcomes["rebooter"] else { return XCTFail("rebooter not stopped: " + log) }
                XCTAssertTrue(cause.contains("rebooted \(VMLifecycle.maximumBoots) times"), log)
                let attacked = try XCTUnwrap(victim(o), log)
                let line = "victim beside a spinner \(baseline.percent) % (longest gap \(baseline.longestGapMicroseconds) us), "
                    + "beside the reboot loop \(attacked.percent) % (longest gap \(attacked.longestGapMicroseconds) us)"
                print("reboot loop, \(cpu): " + line)
                figures.append(line)
                // The share under attack is at least 90 % of the baseline's, and its longest gap
                // far below the attack's before the zeroing left the lock (1.6 s), within what
                // host noise gives (the baseline's longest gap read 8 to 260 ms here).
                passed = attacked.percent * 10 >= baseline.percent * 9
                    && attacked.longestGapMicroseconds <= max(4 * baseline.longestGapMicroseconds, 250_000)
            }
            XCTAssertTrue(passed, cpu + ": in no round did the victim keep 90 % of its baseline share with a gap under the bound:\n"
                          + figures.joined(separator: "\n"))
        }
    }
}
