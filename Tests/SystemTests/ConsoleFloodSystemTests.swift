import Foundation
import XCTest
@testable import SwiftvisorHost

/// Issue 11 §1 and §4: console output never busy-waits under the hypervisor lock. A guest that
/// floods console_io with 16 KiB writes (Guests/flood, interrupts masked) runs on core 0 beside
/// Guests/victim on core 1, which spins with interrupts masked and measures how much of its
/// time it ran and its longest gap. The flood's output goes through the console ring
/// (ConsoleOutput): appended under the lock in console_io's 128-byte pieces, sent to the UART
/// outside it by the flooding core itself.
///
/// QEMU's UART sends every byte at once, so the flood runs twice. As QEMU sends (without
/// -icount): the flood's output beyond 32 KiB/s is dropped and the hypervisor says so, every
/// write is answered 0 as Xen's console_io does, and the victim runs to its end. And with the
/// hypervisor waiting for its UART as a real line at 115200 baud would
/// (`swiftvisor.uart-baud=115200`, UARTLinePacing: 87 us a byte, a 32-byte FIFO), where a
/// 128-byte piece sent under the lock would hold it 11 ms: this run and its baseline (the
/// same victim beside a plain spinner, console-flood-baseline.toml) are under QEMU
/// `-icount shift=0,sleep=off` (AttackSystems), as LockHoldSystemTests: the host's load does
/// not show, and a core waiting for the lock yields its turn to the holder, so a long hold
/// shows as the victim's gap. Asserted: the victim keeps at least 90 % of its baseline share
/// (issue 11 §4) with a longest gap at most twice the baseline's, and the flood's summary.
/// On cortex-a57 only (the console path does not depend on the CPU model).
///
/// Measured (cortex-a57): beside the spinner the victim ran 554 ms of 1000 ms (55.4 %), longest
/// gap 5001 us (the other core's turns); beside the flood at 115200 baud 1000 ms, no gap (the
/// flooding core waits for its line with YIELD, which ends its turn under -icount; at that
/// rate its own sending holds it below the rate limit). Checked: with the ring turned off
/// (every byte sent under the lock, as before), the run at 115200 baud never ended (the victim
/// printed nothing in 120 s) and this test failed. (The unpaced flood under -icount gave
/// 99.9 %, gap 55 us: figures about QEMU more than the lock, since QEMU's round-robin ends the
/// flooding core's turn at each UART write, and counter time does not show the host's cost of
/// a byte; it took a third of the test's wall time, so it runs without -icount.)
final class ConsoleFloodSystemTests: XCTestCase {
    func test_a_console_flood_is_dropped_beyond_its_rate_and_leaves_the_other_core_its_share() throws {
        for cpu in SystemTests.only(["cortex-a57"]) {
            let baseline = try AttackSystems.run("console-flood-baseline.toml", cpu: cpu, countingInstructions: true)
            // As QEMU sends: without -icount (a third of the wall time), for the rate limit's lines.
            let attack = try AttackSystems.run("console-flood.toml", cpu: cpu)
            let paced = try AttackSystems.run("console-flood.toml", cpu: cpu, countingInstructions: true, uartBaud: 115_200)
            let log = cpu + AttackSystems.log(baseline, "beside a spinner", last: 40) + AttackSystems.log(attack, "beside the flood", last: 40)
                + AttackSystems.log(paced, "beside the flood, the UART at 115200 baud", last: 40)
            XCTAssertEqual(baseline.verdict, .success, log)
            XCTAssertEqual(attack.verdict, .success, log)
            XCTAssertEqual(paced.verdict, .success, log)
            XCTAssertTrue(attack.lines.contains("swiftvisor: guest 'neighbour' writes to its console faster than 32 KiB/s: its output is dropped until it slows down"), log)
            XCTAssertTrue(attack.lines.contains { $0.hasPrefix("swiftvisor: guest 'neighbour' console output resumes: ") && $0.hasSuffix(" bytes were dropped") }, log)
            for run in [attack, paced] {
                // (the line before the summary may have lost its end to the rate limit)
                let summary = (run.report.guestLines["neighbour"] ?? []).last ?? ""
                XCTAssertTrue(summary.contains("flood: ") && summary.hasSuffix(" writes of 16384 bytes, all answered 0"), summary + "\n" + log)
            }
            XCTAssertNotNil(VictimFigures(attack, "victim"), "the victim ran to its end beside the flood" + log)
            let before = try AttackSystems.figures(baseline, "victim", log), slowLine = try AttackSystems.figures(paced, "victim", log)
            let figures = "\(cpu): victim beside a spinner \(before.summary); beside the flood at 115200 baud \(slowLine.summary)"
            print("ConsoleFloodSystemTests " + figures)
            XCTAssertGreaterThanOrEqual(slowLine.share * 10, before.share * 9, figures + log)
            XCTAssertLessThanOrEqual(slowLine.longestGapMicroseconds, 2 * before.longestGapMicroseconds, figures + log)
        }
    }
}
