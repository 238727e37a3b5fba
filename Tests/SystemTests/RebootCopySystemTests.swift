import Foundation
import SwiftvisorCore
import SwiftvisorHost
import XCTest

/// Issue 11 §1, a reboot loop with large images: Guests/rebooter with a 96 MiB initrd (in
/// 128 MiB of RAM, core 1) asks for PSCI SYSTEM_RESET at every boot, so its RAM is zeroed and
/// its kernel and initrd copied in again and again until `VMLifecycle.maximumBoots` (10) stops
/// it, while Guests/victim spins with interrupts masked on core 0 and measures how much of 3 s
/// it ran and its longest gap. The copies run in 2 MiB pieces with the hypervisor lock
/// released on the rebooter's own core (GuestRAMPreparation.swift), so the victim's exits
/// never wait for them. The baseline is the victim beside a plain spinner on core 1 (host
/// noise: shared/PLATFORM.md). Measured on a 2-core host: with the copies under the lock the
/// victim ran 19-24 % (baselines 45-64 %) with 0.24-0.38 s gaps (loaded host: 5-8 % of 23-29 %,
/// 0.6-0.9 s); with them out of it, 42-50 % (baselines 43-45 %) with 20-24 ms gaps (loaded
/// host: 18-67 % of 22-60 %, 32-48 ms), the baseline's own.
///
/// Without `-icount` by default: in wall time a TCG core copying 96 MiB holds the lock long.
/// SWIFTVISOR_REBOOT_COPY_ICOUNT=1 runs it under `-icount shift=0,sleep=off`, where the copy is
/// only a few million instructions of counter time and the other core's wait yields to it: there
/// the victim read 94 % both before and after the change (baseline 57-58 %, the rebooter stops
/// early while the spinner spins on), longest gap 25.6 ms before and 16.3 ms after (baseline
/// 5 ms): it does not show the stall, so it is not the default.
final class RebootCopySystemTests: XCTestCase {
    static let initrdMiB = 96

    func run(_ system: URL, cpu: String) throws -> SystemRunner.Outcome {
        try AttackSystems.run(file: system, cpu: cpu, countingInstructions: ProcessInfo.processInfo.environment["SWIFTVISOR_REBOOT_COPY_ICOUNT"] == "1",
                              timeout: 180)
    }

    /// The system under attack, written beside its initrd (a path relative to the file) in a
    /// fresh directory: the initrd is a pattern, not zeroes, as a real one would be.
    func attackSystem() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reboot-copy-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var pattern = Data(count: 1 << 20)
        pattern.withUnsafeMutableBytes { b in for i in 0..<b.count { b[i] = UInt8(truncatingIfNeeded: (i &* 2654435761) >> 13) } }
        var initrd = Data()
        for _ in 0..<Self.initrdMiB { initrd.append(pattern) }
        try initrd.write(to: dir.appendingPathComponent("large.initrd"))
        let toml = """
            # Issue 11 §1: a guest with a \(Self.initrdMiB) MiB initrd that reboots at once at every boot
            # (PSCI SYSTEM_RESET), so its images are copied in again and again, beside Guests/victim.
            [[guest]]
            name = "victim"
            kernel = "guest:victim"
            memory = 8
            cmdline = "victim-seconds=3"
            cpus = [0]

            [[guest]]
            name = "rebooter"
            kernel = "guest:rebooter"
            ramdisk = "large.initrd"
            memory = 128
            cpus = [1]

            """
        let file = dir.appendingPathComponent("reboot-copy.toml")
        try toml.write(to: file, atomically: true, encoding: .utf8)
        // Its baseline: the reboot loop's (victim beside a spinner), measured over the same 3 s.
        let baseline = try String(contentsOf: AttackSystems.folder.appendingPathComponent("reboot-loop-baseline.toml"), encoding: .utf8)
            .replacingOccurrences(of: "victim-seconds=1", with: "victim-seconds=3")
        try baseline.write(to: dir.appendingPathComponent("reboot-copy-baseline.toml"), atomically: true, encoding: .utf8)
        return file
    }

    /// Rounds of (baseline, attack) at most: host load moves the victim's share between runs by
    /// more than the 10 % allowed, so a round whose attack run meets the bound against its own
    /// baseline passes (as RebootLoopSystemTests).
    static let rounds = 3

    func test_a_reboot_loop_with_a_large_initrd_does_not_stall_a_guest_on_another_core() throws {
        let attack = try attackSystem()
        defer { try? FileManager.default.removeItem(at: attack.deletingLastPathComponent()) }
        for cpu in SystemTests.only(["cortex-a57"]) {
            var figures: [String] = []
            var passed = false
            for _ in 0..<Self.rounds where !passed {
                let base = try run(attack.deletingLastPathComponent().appendingPathComponent("reboot-copy-baseline.toml"), cpu: cpu)
                let baseLog = cpu + " baseline\n--- console ---\n" + base.lines.joined(separator: "\n")
                XCTAssertEqual(base.verdict, .success, baseLog)
                let baseline = try AttackSystems.figures(base, "victim", baseLog)

                let o = try run(attack, cpu: cpu)
                let log = cpu + " (baseline: \(baseline.percent) %, longest gap \(baseline.longestGapMicroseconds) us)\n--- console ---\n"
                    + o.lines.joined(separator: "\n")
                XCTAssertNil(o.report.panic, log)
                XCTAssertEqual(o.report.outcomes["victim"], .shutDown(reason: "poweroff", exitCode: 0), log)
                // Every boot up to the limit happened: nine reboots, each copying the initrd in.
                AttackSystems.assertRebootedToTheLimit(o, log)
                let attacked = try AttackSystems.figures(o, "victim", log)
                let line = "victim beside a spinner \(baseline.percent) % (longest gap \(baseline.longestGapMicroseconds) us), "
                    + "beside the \(Self.initrdMiB) MiB initrd reboot loop \(attacked.percent) % (longest gap \(attacked.longestGapMicroseconds) us)"
                print("reboot copy, \(cpu): " + line)
                figures.append(line)
                // The share under attack is at least 90 % of the baseline's, and its longest gap
                // within what host noise gives the baseline (as RebootLoopSystemTests).
                passed = attacked.percent * 10 >= baseline.percent * 9
                    && attacked.longestGapMicroseconds <= max(4 * baseline.longestGapMicroseconds, 250_000)
            }
            XCTAssertTrue(passed, cpu + ": in no round did the victim keep 90 % of its baseline share with a gap under the bound:\n"
                          + figures.joined(separator: "\n"))
        }
    }
}
