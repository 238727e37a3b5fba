import Foundation
import XCTest
import SwiftvisorCore
@testable import SwiftvisorHost

/// swiftvisor on QEMU's board models, driven by hand (QEMU's own command line, as a board's
/// boot loader would start it): the Raspberry Pi 4B (`raspi4b`: PL011, RAM at 0 with the
/// spin-table page reserved, spin-table secondaries, no PSCI: stopped through the PM watchdog)
/// and the ZCU102 (`xlnx-zcu102`: Cadence UART, PSCI). Needs QEMU 10 (Debian 12's 7.2 has
/// neither model): `$SWIFTVISOR_QEMU10` or /tmp/qemu10/root, an unpacked `qemu-system-arm`
/// 10.0 package; and the boards' DTBs from Debian's arm64 kernel package in the tool's cache.
/// Skipped when either is missing.
final class BoardTests: XCTestCase {
    struct Board {
        var machine: [String]
        var dtb: String
        var banner: String
    }

    static let raspi4b = Board(machine: ["-M", "raspi4b"], dtb: "broadcom/bcm2711-rpi-4-b.dtb",
                               banner: "swiftvisor: RAM 960 MiB in 1 range(s), 4 CPU(s), UART at 0xfe201000")
    static let zcu102 = Board(machine: ["-M", "xlnx-zcu102,virtualization=on", "-m", "2G"], dtb: "xilinx/zynqmp-zcu102-rev1.0.dtb",
                              banner: "swiftvisor: RAM 2048 MiB in 1 range(s), 4 CPU(s), Cadence UART at 0xff000000")
    /// Where the boot manifest goes: RAM starts at 0 on both boards; QEMU puts the image at
    /// 2 MiB and the DTB at 128 MiB.
    static let manifestAddress: UInt64 = 0x1000_0000

    func qemu10() throws -> (binary: URL, root: URL) {
        let root = URL(fileURLWithPath: ProcessInfo.processInfo.environment["SWIFTVISOR_QEMU10"] ?? "/tmp/qemu10/root")
        let binary = root.appendingPathComponent("usr/bin/qemu-system-aarch64")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no QEMU 10 at \(root.path) (set SWIFTVISOR_QEMU10)") }
        return (binary, root)
    }

    func dtb(_ relative: String) throws -> URL {
        let lib = LinuxAssets.defaultCache.appendingPathComponent("debian-arm64/root/usr/lib")
        let kernels = (try? FileManager.default.contentsOfDirectory(atPath: lib.path))?.filter { $0.hasPrefix("linux-image-") }.sorted() ?? []
        guard let kernel = kernels.last else { throw XCTSkip("no Debian kernel package in \(lib.path) (swift run swiftvisor linux fetches it)") }
        return lib.appendingPathComponent(kernel).appendingPathComponent(relative)
    }

    /// Boots the hypervisor on `board` with the given bootargs and QEMU arguments; returns its
    /// console lines and whether QEMU ended by itself.
    func boot(_ board: Board, append: String, extra: [String] = []) throws -> (lines: [String], exitedByItself: Bool) {
        let (qemu, root) = try qemu10()
        let dtb = try dtb(board.dtb)
        let image = try ImageBuilder(toolchain: try Toolchain()).buildHypervisor()
        let process = Process()
        process.executableURL = qemu
        process.environment = ["QEMU_MODULE_DIR": root.appendingPathComponent("usr/lib/x86_64-linux-gnu/qemu").path]
        process.arguments = ["-L", root.appendingPathComponent("usr/share/qemu").path] + board.machine
            + ["-dtb", dtb.path, "-kernel", image.path, "-append", append,
               "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot"] + extra
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        let exited = !process.isRunning
        if !exited { process.terminate(); process.waitUntilExit() }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // The UART gets CR LF: one grapheme to Swift, so split on the bytes.
        let lines = text.utf8.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        return (lines, exited)
    }

    /// The demo's two guests in a boot manifest, loaded where a boot loader would put them.
    func demoModules() throws -> [String] {
        let builder = ImageBuilder(toolchain: try Toolchain())
        guard let hello = try builder.buildGuest("hello") else { throw XCTSkip("guest 'hello' did not build") }
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: hello.path)[.size] as! Int)
        let first = Self.manifestAddress + 2 << 20, second = Self.manifestAddress + 4 << 20
        let manifest = BootManifest(guests: [
            .init(name: "alpha", kernel: .init(base: HostPhysicalAddress(first), size: size), memoryBytes: 16 << 20, vcpus: 2, commandLine: "I am alpha"),
            .init(name: "beta", kernel: .init(base: HostPhysicalAddress(second), size: size), memoryBytes: 32 << 20, vcpus: 1, commandLine: "I am beta"),
        ])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-board-manifest-\(getpid()).bin")
        try Data(manifest.encoded).write(to: file)
        addTeardownBlock { try? FileManager.default.removeItem(at: file) }
        return ["-device", "loader,file=\(file.path),addr=0x\(String(Self.manifestAddress, radix: 16)),force-raw=on",
                "-device", "loader,file=\(hello.path),addr=0x\(String(first, radix: 16)),force-raw=on",
                "-device", "loader,file=\(hello.path),addr=0x\(String(second, radix: 16)),force-raw=on"]
    }

    func bootsFromTheDeviceTreeAndStopsByItself(_ board: Board) throws {
        let (lines, exited) = try boot(board, append: "console=unused")
        let log = "\n" + lines.joined(separator: "\n")
        XCTAssertTrue(lines.contains(board.banner), log)
        XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor: image at 0x200000,") }, log)
        // No boot manifest: the machine stops at the GIC check (before GICv2 support) or with
        // no guests; either way it stops by itself, PSCI SYSTEM_OFF or the PM watchdog.
        XCTAssertTrue(lines.contains("swiftvisor: all guests have finished")
                      || lines.contains("swiftvisor: cannot run without it; stopping"), log)
        XCTAssertTrue(exited, "QEMU did not end by itself" + log)
    }

    func runsTheDemo(_ board: Board) throws {
        let (lines, exited) = try boot(board, append: "swiftvisor.manifest=0x\(String(Self.manifestAddress, radix: 16))", extra: try demoModules())
        let log = "\n" + lines.joined(separator: "\n")
        if lines.contains(where: { $0.contains("has no interrupt controller it knows") }) {
            throw XCTSkip("this build has no driver for the board's GIC-400 (GICv2)" + log)
        }
        XCTAssertTrue(lines.contains("swiftvisor: starting 2 guest(s) on 4 core(s)"), log)
        XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor: guest 'alpha' shut down: poweroff (exit code 0)") }, log)
        XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor: guest 'beta' shut down: poweroff (exit code 0)") }, log)
        XCTAssertTrue(lines.contains("swiftvisor: all guests have finished"), log)
        XCTAssertTrue(exited, "QEMU did not end by itself" + log)
    }

    func test_raspi4b_boots_from_its_device_tree_and_stops_through_the_watchdog() throws {
        try bootsFromTheDeviceTreeAndStopsByItself(Self.raspi4b)
    }

    func test_zcu102_boots_from_its_device_tree_on_the_cadence_uart_and_powers_off() throws {
        try bootsFromTheDeviceTreeAndStopsByItself(Self.zcu102)
    }

    func test_raspi4b_runs_the_demo_on_four_spin_table_cores() throws {
        try runsTheDemo(Self.raspi4b)
    }

    func test_zcu102_runs_the_demo_on_four_cores() throws {
        try runsTheDemo(Self.zcu102)
    }
}
