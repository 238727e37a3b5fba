import Foundation
import XCTest
import SwiftvisorCore
@testable import SwiftvisorHost

/// swiftvisor on QEMU's board models, with QEMU's command line written out here as a board's
/// boot loader would start it (the image, the DTB in x0, the modules where `booti` or the Pi
/// firmware would put them): the Raspberry Pi 4B (`raspi4b`: its PL011 `serial0`, RAM at 0 with
/// the spin-table page reserved, spin-table secondaries, no PSCI: stopped through the PM
/// watchdog) and the ZCU102 (`xlnx-zcu102`: Cadence UART, PSCI). QEMU 10 and the boards' DTBs
/// come as for `--machine` (QEMUInstallation, LinuxAssets: fetched into the cache once).
final class BoardSystemTests: XCTestCase {
    struct Machine {
        var board: Board
        var machine: [String]
        var banner: String
    }

    // The PL011 is QEMU's first serial port on raspi4b: swiftvisor's console there (the DT's
    // stdout-path names the mini UART, which swiftvisor has no driver for; serial0 is the PL011).
    static let raspi4b = Machine(board: .raspi4b, machine: ["-M", "raspi4b"],
                                 banner: "swiftvisor: RAM 960 MiB in 1 range(s), 4 CPU(s), UART at 0xfe201000")
    static let zcu102 = Machine(board: .zcu102, machine: ["-M", "xlnx-zcu102,virtualization=on", "-m", "2G"],
                                banner: "swiftvisor: RAM 2048 MiB in 1 range(s), 4 CPU(s), Cadence UART at 0xff000000")
    /// Where the boot manifest goes: RAM starts at 0 on both boards; QEMU puts the image at
    /// 2 MiB and the DTB at 128 MiB.
    static let manifestAddress: UInt64 = 0x1000_0000

    /// Boots the hypervisor on `board` with the given bootargs and QEMU arguments; returns its
    /// console lines and whether QEMU ended by itself.
    func boot(_ board: Machine, append: String, extra: [String] = []) throws -> (lines: [String], exitedByItself: Bool) {
        let qemu = try QEMUInstallation.locate(for: board.board, log: { _ in })
        let dtb = try LinuxAssets(log: { _ in }).deviceTree(try XCTUnwrap(board.board.debianDeviceTree))
        let image = try ImageBuilder(toolchain: try Toolchain()).buildHypervisor()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemu.executable)
        process.environment = ProcessInfo.processInfo.environment.merging(qemu.environment) { $1 }
        process.arguments = qemu.dataArguments + board.machine
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

    func bootsFromTheDeviceTreeAndStopsByItself(_ board: Machine) throws {
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

    func runsTheDemo(_ board: Machine) throws {
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
