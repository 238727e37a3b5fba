import Foundation
import XCTest
@testable import SwiftvisorHost

/// A host device tree without something swiftvisor needs stops the boot with a message naming
/// it, and the machine powers off: never a silent hang.
final class HostDeviceTreeTests: XCTestCase {
    func test_a_host_without_a_gic_it_knows_is_named_and_the_run_ends() throws {
        let qemu = try QEMU.locate(log: { _ in })
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-dtb-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // QEMU's own device tree for the machine the demo runs on, with the GIC's compatible
        // string changed to one swiftvisor does not know (same length, so the blob stays valid).
        let dumped = scratch.appendingPathComponent("virt.dtb")
        var machine = QEMU.Machine()
        machine.ramMiB = 512
        _ = try? Shell.run(qemu, machine.arguments.map { $0.hasPrefix("virt,") ? $0 + ",dumpdtb=\(dumped.path)" : $0 })
        let original = try Data(contentsOf: dumped)
        let edited = Data(original.replacing(Data("arm,gic-v3".utf8), with: Data("arm,gic-v9".utf8)))
        XCTAssertNotEqual(edited, original)
        let noGIC = scratch.appendingPathComponent("no-gic.dtb")
        try edited.write(to: noGIC)

        var options = SystemRunner.Options()
        options.echo = false
        options.timeout = 60
        options.extraQEMUArguments = ["-dtb", noGIC.path]
        let o = try SystemRunner(log: { _ in }).run(ProjectLayout.current.examples.appendingPathComponent("demo.toml"), options: options)
        let log = "\n" + o.lines.joined(separator: "\n")
        XCTAssertTrue(o.lines.contains("swiftvisor: PANIC: the host device tree has no interrupt controller it knows (an arm,gic-v3 node with distributor and redistributor regions, or an arm,gic-400/arm,cortex-a15-gic node with GICD, GICC, GICH and GICV regions)"), log)
        XCTAssertEqual(o.verdict, .hypervisorPanic, "the run ends at once, not by timeout" + log)
        XCTAssertFalse(o.report.outcomes.keys.contains("alpha"), log)
    }
}
