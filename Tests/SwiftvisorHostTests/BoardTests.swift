import XCTest
@testable import SwiftvisorHost
@testable import SwiftvisorCore

/// What the host tool does differently per board: QEMU's arguments, where it puts the boot
/// modules, how much RAM a system may take.
final class BoardTests: XCTestCase {
    func test_qemu_arguments_per_board() {
        var m = QEMU.Machine()
        m.gicVersion = 2; m.cpu = "cortex-a53"; m.cores = 3; m.ramMiB = 512
        XCTAssertEqual(Array(m.arguments.prefix(8)), ["-M", "virt,virtualization=on,gic-version=2", "-cpu", "cortex-a53", "-smp", "3", "-m", "512M"])
        XCTAssertEqual(m.arguments[m.arguments.firstIndex(of: "-serial")! + 1], "stdio")

        m.board = .raspi4b
        m.deviceTree = URL(fileURLWithPath: "/x/bcm2711-rpi-4-b.dtb")
        let pi = m.arguments
        XCTAssertEqual(Array(pi.prefix(6)), ["-M", "raspi4b", "-smp", "4", "-m", "2048M"], "no -cpu, the board's own cores and RAM")
        XCTAssertFalse(pi.contains("-cpu"))
        // The PL011 (serial0) is QEMU's first serial port; swiftvisor drives it, not the mini UART.
        let serials = pi.indices.filter { pi[$0] == "-serial" }.map { pi[$0 + 1] }
        XCTAssertEqual(serials, ["stdio"])
        XCTAssertEqual(pi[pi.firstIndex(of: "-dtb")! + 1], "/x/bcm2711-rpi-4-b.dtb")

        XCTAssertEqual(pi[pi.firstIndex(of: "-audio")! + 1], "none", "no ALSA complaints from QEMU 10")

        m.board = .zcu102
        XCTAssertEqual(Array(m.arguments.prefix(2)), ["-M", "xlnx-zcu102,virtualization=on"])
        m.board = .virt
        XCTAssertFalse(m.arguments.contains("-audio"), "QEMU 7.2 has no -audio")
    }

    func test_boards_need_qemu_9_and_virt_does_not() {
        XCTAssertLessThan(Board.virt.minimumQEMUMajor, 7)
        XCTAssertEqual(Board.raspi4b.minimumQEMUMajor, 9)
        XCTAssertEqual(Board.zcu102.debianDeviceTree, "xilinx/zynqmp-zcu102-rev1.0.dtb")
        XCTAssertEqual(QEMUInstallation.parseVersion("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)\nCopyright"),
                       "10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)")
        XCTAssertEqual(QEMUInstallation(executable: "q", version: "10.0.2 (Debian)").major, 10)
        XCTAssertEqual(QEMUInstallation(executable: "q", version: "7.2.22").major, 7)
    }

    func test_modules_sit_256_MiB_into_the_boards_RAM_and_a_system_too_large_for_the_pi_is_refused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("board-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let kernel = dir.appendingPathComponent("k.bin")
        try Data(count: 4096).write(to: kernel)
        func system(memory: Int) -> LoadedSystem {
            let g = SystemDescription.Guest(name: "a", kernel: kernel.path, memoryMiB: memory)
            return LoadedSystem(description: SystemDescription(guests: [g]), configFile: dir.appendingPathComponent("s.toml"),
                                kernels: [kernel], ramdisks: [nil])
        }
        let pi = try BootLayout(system: system(memory: 256), board: .raspi4b)
        XCTAssertEqual(pi.manifestAddress, 256 << 20)
        XCTAssertEqual(pi.image.base, 2 << 20)
        XCTAssertEqual(pi.machineRAMMiB, 2048)
        XCTAssertNil(pi.memoryProblem(host: nil))
        let virt = try BootLayout(system: system(memory: 256))
        XCTAssertEqual(virt.manifestAddress, 0x4000_0000 + 256 << 20)

        let big = try BootLayout(system: system(memory: 800), board: .raspi4b)
        let problem = try XCTUnwrap(big.memoryProblem(host: nil))
        XCTAssertTrue(problem.contains("but the Raspberry Pi 4B (QEMU raspi4b) gives the hypervisor 960 MiB"), problem)
        XCTAssertNil(try BootLayout(system: system(memory: 800), board: .zcu102).memoryProblem(host: nil))
    }

    func test_qemus_harmless_start_up_notices_are_kept_out_of_the_console() {
        XCTAssertTrue(ConsoleSession.isHarmlessQEMUNotice("qemu-system-aarch64: failed to initialize module: /usr/lib/x86_64-linux-gnu/qemu/ui-opengl.so"))
        XCTAssertTrue(ConsoleSession.isHarmlessQEMUNotice("Only modules from the same build can be loaded."))
        XCTAssertTrue(ConsoleSession.isHarmlessQEMUNotice("qemu-system-aarch64: warning: bcm2711 dtc: brcm,bcm2711-pcie has been disabled!"))
        XCTAssertTrue(ConsoleSession.isHarmlessQEMUNotice("qemu-system-aarch64: warning: nic cadence_gem.3 has no peer"))
        XCTAssertFalse(ConsoleSession.isHarmlessQEMUNotice("qemu-system-aarch64: -dtb x.dtb: could not load device tree"))
        XCTAssertFalse(ConsoleSession.isHarmlessQEMUNotice("swiftvisor: guest 'a' shut down: poweroff (exit code 0)"))
    }
}
