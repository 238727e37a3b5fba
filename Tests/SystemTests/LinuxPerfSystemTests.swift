import Foundation
import XCTest
@testable import SwiftvisorHost

/// `perf stat` in a Linux guest (issue 11 §3): Debian's kernel finds the guest's PMU
/// (the `arm,armv8-pmuv3` node, PMUv3 in ID_AA64DFR0_EL1) and its armv8 PMU driver probes
/// ("hw perfevents: enabled with armv8_pmuv3 PMU driver, N counters available"); the
/// initramfs's `perfstat` (Guests/LinuxTools/perfstat.c, perf_event_open) then counts a
/// non-zero number of cycles for `busybox true`. Under -icount, where QEMU's TCG implements the
/// instructions event, it counts a non-zero number of instructions too. The same holds on
/// Xen's domU machine (`layout = "xen"`).
final class LinuxPerfSystemTests: XCTestCase {
    func run(icount: Bool, xenLayout: Bool = false) throws {
        let name = "perf"
        var config = try LinuxSystem.prepare(guests: [name], shell: true) { _ in }
        if xenLayout {
            // The same guest on Xen's domU machine (its DT's `pmu` node: XenDomUMachine).
            let toml = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "[[guest]]\n", with: "[[guest]]\nlayout = \"xen\"\n")
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-xen-perf-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            config = dir.appendingPathComponent("xen-perf.toml")
            try toml.write(to: config, atomically: true, encoding: .utf8)
        }
        defer { if xenLayout { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) } }
        let typist = SystemTests.Typist { t, line in
            switch (t.step, line) {
            case (0, "\(name) | swiftvisor-init: done"):
                t.step = 1; return "dmesg | grep perfevents; perfstat /bin/busybox true; echo typed-$((6*7))\n"
            case (1, "\(name) | typed-42"):
                t.step = 2; return "poweroff\n"
            default: return nil
            }
        }
        var options = SystemRunner.Options()
        options.cpu = "cortex-a57"
        options.timeout = 300
        options.echo = false
        options.countInstructions = icount
        options.input = .respond { typist.answer($0) }
        let o = try SystemRunner(log: { _ in }).run(config, options: options)
        let log = "\n--- console ---\n" + o.lines.joined(separator: "\n")
        XCTAssertEqual(o.verdict, .success, log)
        XCTAssertEqual(typist.step, 2, "the script ran to its end" + log)
        let lines = o.report.guestLines[name] ?? []
        for bad in SystemTests.linuxTrouble {
            XCTAssertFalse(lines.contains { $0.contains(bad) }, "printed '\(bad)'" + log)
        }
        XCTAssertTrue(lines.contains { $0.contains("hw perfevents: enabled with armv8_pmuv3") && $0.contains("PMU driver") }, log)
        let stat = try XCTUnwrap(lines.first { $0.hasPrefix("perfstat: ") }, log)
        XCTAssertTrue(stat.hasSuffix(" instructions: /bin/busybox true"), log)
        let words = stat.split(separator: " ")
        XCTAssertTrue(words.count > 4 && (UInt64(words[1]) ?? 0) > 0, "cycles counted: " + stat + log)
        if icount { XCTAssertTrue((UInt64(words[3]) ?? 0) > 0, "instructions counted: " + stat + log) }
    }

    func test_perf_counts_cycles_of_a_command_in_linux() throws { try run(icount: false) }
    func test_perf_counts_instructions_of_a_command_in_linux_under_icount() throws { try run(icount: true) }
    func test_perf_counts_cycles_in_a_xen_layout_linux() throws { try run(icount: false, xenLayout: true) }
}
