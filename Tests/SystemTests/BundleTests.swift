import Foundation
import XCTest
@testable import SwiftvisorHost

/// `swiftvisor bundle`: the files a boot loader needs, checked the way a user would use them.
final class BundleTests: XCTestCase {
    func tool(_ arguments: [String]) throws -> (status: Int32, text: String) {
        let p = Process()
        p.executableURL = try SwiftvisorTool.url()
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    var demo: String { ProjectLayout.current.examples.appendingPathComponent("demo.toml").path }

    func folder() -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID())")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// The virt bundle's own qemu.sh boots the demo: the modules file, loaded at the address
    /// its command line names, holds the manifest and both guests.
    func test_the_virt_bundle_boots_the_demo_with_its_own_qemu_script() throws {
        let dir = folder()
        let (status, text) = try tool(["bundle", demo, "-o", dir.path])
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("swiftvisor.bin, swiftvisor-modules.bin, qemu.sh for QEMU virt; the modules load at 0x50000000"), text)
        let qemu = try QEMU.locate(log: { _ in })
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [dir.appendingPathComponent("qemu.sh").path]
        p.environment = ["PATH": URL(fileURLWithPath: qemu).deletingLastPathComponent().path + ":/usr/bin:/bin"]
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let killer = DispatchWorkItem { p.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: killer)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        killer.cancel()
        for line in ["swiftvisor: guests: 2", "alpha | goodbye", "beta | goodbye",
                     "swiftvisor: guest 'alpha' shut down: poweroff (exit code 0)", "swiftvisor: all guests have finished"] {
            XCTAssertTrue(output.contains(line), "\(line) missing:\n\(output)")
        }
    }

    /// The Pi's firmware files name the same addresses the modules were laid out for.
    func test_the_raspberry_pi_bundle_has_firmware_files_that_agree_with_the_layout() throws {
        let dir = folder()
        let (status, text) = try tool(["bundle", demo, "--machine", "raspi4b", "-o", dir.path])
        XCTAssertEqual(status, 0, text)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(files, ["cmdline.txt", "config.txt", "swiftvisor-modules.bin", "swiftvisor.bin"], "the firmware brings its own device tree")
        let config = try String(contentsOf: dir.appendingPathComponent("config.txt"), encoding: .utf8)
        for line in ["arm_64bit=1", "kernel=swiftvisor.bin", "kernel_address=0x200000", "dtoverlay=disable-bt",
                     "initramfs swiftvisor-modules.bin 0x10000000", "enable_uart=1"] {
            XCTAssertTrue(config.split(separator: "\n").contains { $0 == line }, "\(line) missing:\n\(config)")
        }
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("cmdline.txt"), encoding: .utf8), "swiftvisor.manifest=0x10000000\n")
        // The modules file starts with the manifest's magic.
        let modules = try Data(contentsOf: dir.appendingPathComponent("swiftvisor-modules.bin"))
        XCTAssertEqual(String(decoding: modules.prefix(8), as: UTF8.self), "SVMANIF4")

        let zcu = folder()
        XCTAssertEqual(try tool(["bundle", demo, "--machine", "zcu102", "-o", zcu.path]).status, 0)
        let script = try String(contentsOf: zcu.appendingPathComponent("boot.cmd"), encoding: .utf8)
        XCTAssertTrue(script.contains("load mmc 0:1 0x10000000 swiftvisor-modules.bin"), script)
        XCTAssertTrue(script.contains("setenv bootargs \"swiftvisor.manifest=0x10000000\""), script)
        XCTAssertTrue(script.contains("booti 0x200000 - 0x100000"), script)
    }

    func test_a_system_too_large_for_the_board_is_refused_before_anything_is_written() throws {
        let dir = folder()
        let toml = dir.deletingLastPathComponent().appendingPathComponent("big-\(UUID()).toml")
        try "[[guest]]\nname = \"big\"\nkernel = \"guest:hello\"\nmemory = 900\n".write(to: toml, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: toml) }
        let (status, text) = try tool(["bundle", toml.path, "--machine", "raspi4b", "-o", dir.path])
        XCTAssertEqual(status, 2, text)
        XCTAssertTrue(text.contains("\(toml.path):4: 'memory': the machine would need"), text)
        XCTAssertTrue(text.contains("gives the hypervisor 960 MiB"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path))
    }
}
