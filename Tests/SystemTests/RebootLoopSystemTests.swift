import Foundation
import SwiftvisorCore
import SwiftvisorHost
import XCTest

/// Issue 11 §1, the reboot loop: Guests/rebooter (512 MiB, core 1) asks for PSCI SYSTEM_RESET
/// at every boot, so its RAM is zeroed again and again until `VMLifecycle.maximumBoots` (10)
/// stops it, while Guests/victim spins with interrupts masked on core 0 and measures how much
/// of 1 s it ran and its longest gap. The zeroing runs in 2 MiB pieces with the hypervisor lock
/// released on the rebooter's own core, so the victim's exits never wait for it.
///
/// It runs under QEMU `-icount shift=0,sleep=off` (one host thread runs both cores round-robin, the
/// counter follows the instructions executed), so the host's load does not show and the figures
/// repeat; a core waiting for the lock yields its turn to the holder (WFE), so a long hold shows
/// as the victim's gap. The counter follows both cores, so the victim's share depends on what
/// core 1 runs: it is compared with a baseline, the victim beside a plain spinner on core 1
/// (reboot-loop-baseline.toml, Guests/hog: 739 ms of 1 s, longest gap 5.0 ms). The rebooter's
/// core takes the lock often, and the lock's first WFE ends a core's turn under QEMU's
/// round-robin, so the victim gets more of the counter beside the reboot loop (939 ms, longest
/// gap 3.5 ms): the share bound is easily met, and the gap bound (twice the baseline's) is what
/// a hold would break (zeroing and cleaning 512 MiB, DC ZVA and DC CVAC a 64-byte block at a
/// time, is some 25 M instructions, 25 ms, per reboot).
final class RebootLoopSystemTests: XCTestCase {
    func victim(_ o: SystemRunner.Outcome) -> VictimFigures? { VictimFigures(o, "victim") }

    func run(_ system: String, cpu: String) throws -> SystemRunner.Outcome {
        try AttackSystems.run(system, cpu: cpu, countingInstructions: true)
    }

    func test_a_reboot_loop_does_not_stall_a_guest_on_another_core() throws {
        for cpu in SystemTests.only(["cortex-a57"]) {
            let base = try run("reboot-loop-baseline.toml", cpu: cpu)
            let baseLog = cpu + " baseline" + AttackSystems.log(base, "console")
            XCTAssertEqual(base.verdict, .success, baseLog)
            let baseline = try XCTUnwrap(victim(base), baseLog)

            let o = try run("reboot-loop.toml", cpu: cpu)
            let log = cpu + " (baseline: \(baseline.summary))" + AttackSystems.log(o, "console", last: 200)
            XCTAssertNil(o.report.panic, log)
            XCTAssertEqual(o.report.outcomes["victim"], .shutDown(reason: "poweroff", exitCode: 0), log)
            // Every boot up to the limit happened: nine reboots, each zeroing 512 MiB.
            AttackSystems.assertRebootedToTheLimit(o, log)
            let attacked = try XCTUnwrap(victim(o), log)
            print("RebootLoopSystemTests \(cpu): victim beside a spinner \(baseline.summary); beside the reboot loop \(attacked.summary)")
            // At least 90 % of the baseline's share (issue 11 §4), and a longest gap at most
            // twice the baseline's (zeroing under the lock gave a 1.6 s gap, 0 % of 3 s).
            XCTAssertGreaterThanOrEqual(attacked.share * 10, baseline.share * 9, log)
            XCTAssertLessThanOrEqual(attacked.longestGapMicroseconds, 2 * baseline.longestGapMicroseconds, log)
        }
    }
}
