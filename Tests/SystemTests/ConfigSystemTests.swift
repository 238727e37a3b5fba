import Foundation
import XCTest
@testable import SwiftvisorHost

/// The hypervisor's limits as `check` states them hold when QEMU runs (issue 7 §3): the most
/// guests it accepts run, a large guest runs, and `check` refuses what `run` refuses.
final class ConfigSystemTests: XCTestCase {
    static let cpus = ["cortex-a57", "max"]
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-config-system-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ toml: String) throws -> URL {
        let file = dir.appendingPathComponent(name)
        try toml.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func hello(_ count: Int, memory: Int) -> String {
        (1...count).map { "[[guest]]\nname = \"g\($0)\"\nkernel = \"guest:hello\"\nmemory = \(memory)\n" }.joined()
    }

    func run(_ config: URL, cpu: String) throws -> SystemRunner.Outcome {
        var options = SystemRunner.Options()
        options.cpu = cpu
        options.timeout = 120
        options.echo = false
        return try SystemRunner(log: { _ in }).run(config, options: options)
    }

    func log(_ o: SystemRunner.Outcome) -> String { "\n--- console ---\n" + o.lines.joined(separator: "\n") }

    func test_64_guests_run_and_a_65th_is_refused_before_qemu_starts() throws {
        let sixtyFour = try write("64.toml", hello(64, memory: 4))
        for cpu in Self.cpus {
            let o = try run(sixtyFour, cpu: cpu)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            XCTAssertEqual(o.report.outcomes.count, 64, cpu + log(o))
            XCTAssertTrue((1...64).allSatisfy { o.report.succeeded("g\($0)") }, cpu + log(o))
        }
        let sixtyFive = try write("65.toml", hello(65, memory: 4))
        XCTAssertThrowsError(try SystemRunner(log: { _ in }).check(sixtyFive, cores: 2)) { error in
            XCTAssertEqual((error as? [ConfigError])?.map(\.description),
                           ["\(sixtyFive.path):258: 'name': 'g65' is guest number 65, but at most 64 guests can run: the hypervisor's boot manifest has room for 64"])
        }
    }

    func test_a_guest_with_ram_above_4_gib_boots_and_its_ram_preparation_shows_progress() throws {
        // Its device tree lies in its last 2 MiB, above 4 GiB: the guest kit's stage-1 map
        // once ended at 4 GiB (and aliased 3-4 GiB), so hello crashed reading it.
        let config = try write("large.toml", hello(1, memory: 4608))
        for cpu in Self.cpus {
            let o = try run(config, cpu: cpu)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            XCTAssertTrue(o.report.guestLines["g1"]?.contains("memory 4608 MiB, 1 CPU(s)") ?? false, cpu + log(o))
            XCTAssertTrue(o.lines.contains("swiftvisor: guest 'g1': preparing 4608 MiB of RAM... 50%"), cpu + log(o))
        }
    }

    func test_check_takes_the_machine_options_of_run() throws {
        let tool = try SwiftvisorTool.url()
        let config = try write("pinned.toml", "[[guest]]\nname = \"pinned\"\nkernel = \"guest:hello\"\nmemory = 8\ncpus = [5]\n")
        func check(_ args: [String]) throws -> (Int32, String) {
            let p = Process(), errors = Pipe()
            p.executableURL = tool
            p.arguments = ["check", config.path] + args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = errors
            try p.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        let (status, text) = try check([])
        XCTAssertEqual(status, 2)
        XCTAssertEqual(text, "error: \(config.path):5: 'cpus': guest 'pinned' names core 5, but the machine has 2 core(s) (--cores)\n")
        XCTAssertEqual(try check(["--cores", "6", "--cpu", "max"]).0, 0)
    }
}
