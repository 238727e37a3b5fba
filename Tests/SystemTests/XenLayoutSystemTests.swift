import Foundation
import XCTest
@testable import SwiftvisorHost

/// `layout = "xen"` (issue 9 §5): a guest finds Xen's domU machine — vGIC at 0x03001000 and
/// 0x03020000 (or GICv2 at 0x03001000/0x03002000), SBSA UART at 0x22000000, RAM at
/// 0x40000000, nothing at QEMU virt's places — while a virt-layout guest runs beside it.
final class XenLayoutSystemTests: XCTestCase {
    static let machines = SystemTests.only([SystemTests.Machine(cpu: "cortex-a57"), SystemTests.Machine(cpu: "max"), SystemTests.gicv2])
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")

    func test_a_xen_layout_guest_sees_xens_domu_machine() throws {
        for machine in Self.machines {
            let cpu = machine.description
            var options = SystemRunner.Options()
            options.cpu = machine.cpu
            options.gicVersion = machine.gic
            options.timeout = 60
            options.echo = false
            let o = try SystemRunner(log: { _ in }).run(systems.appendingPathComponent("xenlayout.toml"), options: options)
            let log = "\n--- console ---\n" + o.lines.joined(separator: "\n")
            XCTAssertEqual(o.verdict, .success, cpu + log)
            let lines = o.report.guestLines["domu"] ?? []
            XCTAssertTrue(lines.contains("xen layout: printing through the SBSA UART at 0x22000000"), cpu + log)
            XCTAssertTrue(lines.contains("xen layout: GICv\(machine.gic)"), cpu + log)
            XCTAssertFalse(lines.contains { $0.hasPrefix("FAIL") }, cpu + log)
            XCTAssertEqual(lines.filter { $0.hasPrefix("ok ") }.count, machine.gic == 3 ? 16 : 13, cpu + log)
            XCTAssertEqual(lines.filter { $0.hasPrefix("xen layout: read virt") && $0.contains(": refused (ESR ") }.count, 4, cpu + log)
            XCTAssertEqual(lines.last, "0 failure(s)", cpu + log)
            XCTAssertEqual(o.report.guestLines["virt"]?.last, "goodbye", cpu + log)
        }
    }

    /// Debian's kernel on Xen's domU machine: it finds the redistributors at 0x03020000 and the
    /// SBSA UART (`amba-pl011`, `arm,sbsa-uart`) at 0x22000000 as ttyAMA0, takes its interrupt
    /// (INTID 32) for console input at the shell, and powers off.
    func test_linux_boots_to_its_shell_on_the_xen_layout() throws {
        let name = "domu"
        let generated = try LinuxSystem.prepare(guests: [name], shell: true) { _ in }
        let toml = try String(contentsOf: generated, encoding: .utf8).replacingOccurrences(of: "[[guest]]\n", with: "[[guest]]\nlayout = \"xen\"\n")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-xen-layout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("xen-linux.toml")
        try toml.write(to: config, atomically: true, encoding: .utf8)
        for machine in SystemTests.bothGICs {
            let cpu = machine.description
            let typist = SystemTests.Typist { t, line in
                switch (t.step, line) {
                case (0, "\(name) | swiftvisor-init: done"):
                    t.step = 1; return "grep -e uart -e sbsa /proc/interrupts; echo typed-$((6*7))\n"
                case (1, "\(name) | typed-42"):
                    t.step = 2; return "poweroff\n"
                default: return nil
                }
            }
            var options = SystemRunner.Options()
            options.cpu = machine.cpu
            options.gicVersion = machine.gic
            options.timeout = 240
            options.echo = false
            options.input = .respond { typist.answer($0) }
            let o = try SystemRunner(log: { _ in }).run(config, options: options)
            let log = "\n--- console ---\n" + o.lines.joined(separator: "\n")
            XCTAssertEqual(o.verdict, .success, cpu + log)
            XCTAssertEqual(typist.step, 2, "the script ran to its end; " + cpu + log)
            let lines = o.report.guestLines[name] ?? []
            for bad in SystemTests.linuxTrouble {
                XCTAssertFalse(lines.contains { $0.contains(bad) }, "printed '\(bad)'; " + cpu + log)
            }
            XCTAssertTrue(lines.contains { $0.hasSuffix("22000000.sbsa-uart: ttyAMA0 at MMIO 0x22000000 (irq = 12, base_baud = 0) is a SBSA") }
                          || lines.contains { $0.contains("22000000.sbsa-uart: ttyAMA0 at MMIO 0x22000000") }, cpu + log)
            if machine.gic == 3 {
                XCTAssertTrue(lines.contains { $0.hasSuffix("GICv3: CPU0: found redistributor 0 region 0:0x0000000003020000") }, cpu + log)
                XCTAssertTrue(lines.contains { $0.hasSuffix("GICv3: CPU1: found redistributor 1 region 0:0x0000000003040000") }, cpu + log)
            }
            // The UART's interrupt is GUEST_VPL011_SPI (INTID 32), and it fired: input reached the shell.
            XCTAssertTrue(lines.contains { $0.contains(" 32 Level") && $0.contains("uart-pl011") }, cpu + log)
            XCTAssertTrue(lines.contains("swiftvisor-init: cpus: 2"), cpu + log)
            // Its Xen drivers find the /hypervisor node's event-channel PPI (Xen's own interrupt-parent).
            XCTAssertTrue(lines.contains { $0.hasSuffix("xen:events: Using 2-level ABI") }, cpu + log)
            XCTAssertTrue(lines.contains { $0.contains("swiftvisor-init: hypervisor: xen 4.17") }, cpu + log)
            XCTAssertTrue(lines.contains("Requesting system poweroff"), cpu + log)
            XCTAssertTrue(o.report.succeeded(name), cpu + log)
        }
    }
}
