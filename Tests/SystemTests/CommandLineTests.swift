import Foundation
import XCTest
@testable import SwiftvisorHost

/// The built `swiftvisor` binary's version and help, read as a user would (no QEMU needed).
final class CommandLineTests: XCTestCase {
    func output(_ arguments: [String]) throws -> (status: Int32, text: String) {
        let tool = try SwiftvisorTool.url()
        let p = Process()
        p.executableURL = tool
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func test_version_prints_the_tool_and_its_number() throws {
        let (status, text) = try output(["--version"])
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.hasPrefix("swiftvisor \(ToolVersion.number)"), text)
        XCTAssertEqual(text.split(separator: "\n").count, 1, text)
    }

    func test_bench_help_describes_every_option_and_timeout_is_only_on_commands_that_boot_qemu() throws {
        let (status, bench) = try output(["bench", "--help"])
        XCTAssertEqual(status, 0, bench)
        for option in ["--cpu <model>", "--cores <n>", "--timeout <seconds>", "--linux", "--net", "--json"] {
            XCTAssertTrue(bench.contains(option), "\(option) missing:\n\(bench)")
        }
        // Help text wraps at the terminal's width: compare with runs of spaces and newlines as one.
        let words = bench.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(words.contains("(per boot; default: 120, 300 with --linux, 900 with --net)"), bench)

        let (_, check) = try output(["check", "--help"])
        XCTAssertTrue(check.contains("<system.toml>") && check.contains("The system description to check"), check)
        XCTAssertFalse(check.contains("--timeout"), check)
        let (_, build) = try output(["build", "--help"])
        XCTAssertFalse(build.contains("--timeout"), build)
    }

    func test_vhe_is_refused_on_a_cpu_without_vhe() throws {
        for command in ["demo", "bench", "linux"] {
            let (status, text) = try output([command, "--vhe"])
            XCTAssertNotEqual(status, 0, text)
            XCTAssertTrue(text.contains("--vhe needs a CPU with VHE: add --cpu max"), text)
        }
    }

    func test_machine_options_are_on_every_command_that_boots_or_checks_and_impossible_combinations_are_refused() throws {
        for command in ["run", "demo", "linux", "bench", "check"] {
            let (_, help) = try output([command, "--help"])
            for option in ["--machine <board>", "--gic <version>", "--cpu <model>", "--cores <n>", "--vhe"] {
                XCTAssertTrue(help.contains(option), "\(command): \(option) missing:\n\(help)")
            }
        }
        let refusals: [([String], String)] = [
            (["--machine", "pi"], "--machine must be one of virt, raspi4b, zcu102, not 'pi'"),
            (["--machine", "raspi4b", "--gic", "3"], "--gic 3 applies to --machine virt only: raspi4b has a GIC-400 (GICv2)"),
            (["--machine", "zcu102", "--cpu", "max"], "--cpu max applies to --machine virt only: zcu102 has 4 cortex-a53 cores"),
            (["--machine", "raspi4b", "--cores", "2"], "--cores 2 applies to --machine virt only: raspi4b has 4 cores"),
            (["--machine", "zcu102", "--vhe"], "--vhe needs a CPU with VHE (--machine virt --cpu max): the cortex-a53 of zcu102 has none"),
            (["--gic", "4"], "--gic must be 2 or 3, not 4"),
            (["--cpu", "cortex-a76"], "--cpu must be one of cortex-a53, cortex-a57, cortex-a72, max, not 'cortex-a76'"),
        ]
        for command in ["demo", "bench"] {
            for (arguments, message) in refusals {
                let (status, text) = try output([command] + arguments)
                XCTAssertEqual(status, 64, "\(command) \(arguments): \(text)")   // ArgumentParser's usage error, before anything runs
                XCTAssertTrue(text.contains(message), "\(command) \(arguments): \(text)")
            }
        }
    }

    func test_check_names_the_board_and_its_fixed_machine() throws {
        let demo = ProjectLayout.current.examples.appendingPathComponent("demo.toml").path
        let (status, text) = try output(["check", demo, "--machine", "raspi4b"])
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("2 guest(s), machine RAM 2048 MiB, 4 core(s) (raspi4b), OK"), text)
        let (_, virt) = try output(["check", demo, "--gic", "2", "--cpu", "cortex-a53"])
        XCTAssertTrue(virt.contains("2 core(s) (virt, cortex-a53, GICv2), OK"), virt)
    }
}
