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
        for option in ["--cpu <model>", "--cores <n>", "--timeout <seconds>", "--linux", "--json"] {
            XCTAssertTrue(bench.contains(option), "\(option) missing:\n\(bench)")
        }
        // Help text wraps at the terminal's width: compare with runs of spaces and newlines as one.
        let words = bench.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(words.contains("(per boot; default: 120, or 300 with --linux)"), bench)

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
}
