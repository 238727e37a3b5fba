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
}
