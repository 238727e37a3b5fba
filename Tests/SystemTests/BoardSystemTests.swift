import Foundation
import XCTest
import SwiftvisorCore
@testable import SwiftvisorHost

/// swiftvisor on QEMU's board models, with QEMU's command line written out here as a board's
/// boot loader would start it (the image, the DTB in x0, no guests; SystemTests runs the demo,
/// isolation, SMP and Linux on them through the tool's --machine): the Raspberry Pi 4B (`raspi4b`: its PL011 `serial0`, RAM at 0 with
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

    func bootsFromTheDeviceTreeAndStopsByItself(_ board: Machine) throws {
        let (lines, exited) = try boot(board, append: "console=unused")
        let log = "\n" + lines.joined(separator: "\n")
        XCTAssertTrue(lines.contains(board.banner), log)
        XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor: image at 0x200000,") }, log)
        // No boot manifest: no guests, and the machine stops by itself (PSCI SYSTEM_OFF, or
        // the PM watchdog on the Pi, which has no PSCI).
        XCTAssertTrue(lines.contains("swiftvisor: all guests have finished"), log)
        XCTAssertTrue(exited, "QEMU did not end by itself" + log)
    }

    func test_raspi4b_boots_from_its_device_tree_and_stops_through_the_watchdog() throws {
        try bootsFromTheDeviceTreeAndStopsByItself(Self.raspi4b)
    }

    func test_zcu102_boots_from_its_device_tree_on_the_cadence_uart_and_powers_off() throws {
        try bootsFromTheDeviceTreeAndStopsByItself(Self.zcu102)
    }
}
