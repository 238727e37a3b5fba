import Foundation
import XCTest
@testable import SwiftvisorHost

/// The hypervisor image relocates itself (entry.S): started by a boot loader at any 2 MiB-aligned
/// address, it runs there, reserves its own range and starts secondary cores there. QEMU's
/// `-kernel` always puts it at RAM base + 2 MiB (the other system tests); here a trampoline in
/// `-kernel` jumps to the image loaded elsewhere, as U-Boot's `booti` would.
final class LoadAddressTests: XCTestCase {
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")

    func run(_ config: URL, at address: UInt64, cores: Int = 2) throws -> SystemRunner.Outcome {
        var options = SystemRunner.Options()
        options.cpu = "cortex-a57"
        options.cores = cores
        options.timeout = 90
        options.echo = false
        options.loadAddress = address
        return try SystemRunner(log: { _ in }).run(config, options: options)
    }

    func log(_ o: SystemRunner.Outcome) -> String { "\n--- console ---\n" + o.lines.joined(separator: "\n") }
    func hex(_ a: UInt64) -> String { "0x" + String(a, radix: 16) }

    /// Just above QEMU's own placement, and far above it: above the DTB (RAM base + 128 MiB) and
    /// the boot modules (RAM base + 256 MiB), so the guests' RAM is allocated around the image.
    func test_the_demo_runs_with_the_image_at_other_addresses() throws {
        for address: UInt64 in [0x4060_0000, 0x6000_0000] {
            let o = try run(ProjectLayout.current.examples.appendingPathComponent("demo.toml"), at: address)
            XCTAssertEqual(o.verdict, .success, hex(address) + log(o))
            XCTAssertTrue(o.lines.contains { $0.hasPrefix("swiftvisor: image at \(hex(address)), ") }, hex(address) + log(o))
            for (name, text) in [("alpha", "I am alpha"), ("beta", "I am beta")] {
                let lines = o.report.guestLines[name] ?? []
                XCTAssertTrue(lines.contains("hello from a swiftvisor guest: \(text)"), hex(address) + log(o))
                XCTAssertTrue(lines.contains("xen_version says 4.17 (via console_io)"), hex(address) + log(o))
                XCTAssertEqual(lines.last, "goodbye", hex(address) + log(o))
            }
        }
    }

    /// Secondary cores start at secondary_entry through PSCI CPU_ON: its relocated address.
    func test_secondary_cores_start_with_the_image_elsewhere() throws {
        let address: UInt64 = 0x6000_0000
        let o = try run(systems.appendingPathComponent("smp.toml"), at: address, cores: 3)
        XCTAssertEqual(o.verdict, .success, log(o))
        XCTAssertTrue(o.lines.contains { $0.hasPrefix("swiftvisor: image at \(hex(address)), ") }, log(o))
        XCTAssertEqual(o.report.guestLines["ring4"]?.last, "token ring over 4 vCPUs: 100 of 100 laps (ok)", log(o))
        XCTAssertEqual(Set(o.report.vcpuCores.values.flatMap { $0.flatMap { $0 } }), Set(0..<3), "every core ran vCPUs" + log(o))
    }

    func test_a_load_address_qemu_cannot_honour_is_refused() throws {
        let demo = ProjectLayout.current.examples.appendingPathComponent("demo.toml")
        for (address, words) in [(UInt64(0x4030_0000), "not 2 MiB aligned"), (0x4000_0000, "below RAM base + 2 MiB"),
                                 (0x4800_0000, "overlap the device tree")] {
            XCTAssertThrowsError(try run(demo, at: address)) { error in
                XCTAssertTrue("\(error)".contains(words), "\(error)")
            }
        }
    }

    /// What a boot loader reads: text_offset 0, "anywhere" placement, image_size covering
    /// .bss, heap and stacks; and what entry.S applies: only relative relocations.
    func test_the_image_header_and_relocations() throws {
        let builder = ImageBuilder(toolchain: try Toolchain())
        let image = [UInt8](try Data(contentsOf: try builder.buildHypervisor()))
        func quad(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(image[at + $1]) << (8 * $1) } }
        XCTAssertEqual(quad(8), 0, "text_offset")
        XCTAssertGreaterThanOrEqual(quad(16), UInt64(image.count) + 8 << 20, "image_size covers the 8 MiB heap")
        XCTAssertEqual(quad(24), 0xA, "flags: little-endian, 4 KiB pages, any 2 MiB-aligned base")
        let elf = builder.objects.appendingPathComponent("hypervisor/swiftvisor.elf")
        let relocations = try RelocationCheck.relocations(elf: [UInt8](try Data(contentsOf: elf)))
        XCTAssertGreaterThan(relocations.count, 0)
        XCTAssertTrue(relocations.allSatisfy { $0.type == RelocationCheck.relative })
    }
}
