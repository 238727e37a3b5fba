import Foundation
import XCTest
@testable import SwiftvisorHost
import SwiftvisorCore

/// The `weight` and `cap` guest keys (xl.cfg): their ranges, checked with file, line and key;
/// the values reach the boot manifest; `check` lists them.
final class SchedulingKeyTests: XCTestCase {
    var dir: URL!
    var file: URL { dir.appendingPathComponent("system.toml") }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-sched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(tinyELF(machine: 183)).write(to: dir.appendingPathComponent("kernel.elf"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ extra: String) -> Result<LoadedSystem, [ConfigError]> {
        try! Data("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\nvcpus = 2\n\(extra)".utf8).write(to: file)
        do { return .success(try ConfigLoader.load(file) { _ in nil }) } catch let e as [ConfigError] { return .failure(e) } catch {
            XCTFail("unexpected \(error)"); return .failure([])
        }
    }

    func test_defaults_and_values() throws {
        let plain = try load("").get().description
        XCTAssertEqual(plain.guests[0].weight, 256, "Xen's default weight")
        XCTAssertEqual(plain.guests[0].cap, 0)
        XCTAssertEqual(SchedulingSummary.lines(plain), [])
        let set = try load("weight = 512\ncap = 150\n").get().description
        XCTAssertEqual(set.guests[0].weight, 512)
        XCTAssertEqual(set.guests[0].cap, 150)
        XCTAssertEqual(SchedulingSummary.lines(set), ["  guest 'a': weight 512, cap 150 % of a core"])
    }

    func test_out_of_range_values_are_errors_on_their_line() {
        guard case .failure(let w) = load("weight = 0\n") else { return XCTFail("accepted") }
        XCTAssertEqual(w.map(\.description), ["\(file.path):6: 'weight': 0 is not a weight: write 1 to 65535 (xl.cfg's range; 256 is the default)"])
        guard case .failure(let c) = load("cap = 201\n") else { return XCTFail("accepted") }
        XCTAssertEqual(c.map(\.description), ["\(file.path):6: 'cap': 201 is not a cap for 2 vCPU(s): write 0 (no cap) to 200 (percent of one core)"])
        guard case .failure(let t) = load("weight = \"high\"\n") else { return XCTFail("accepted") }
        XCTAssertEqual(t.map(\.description), ["\(file.path):6: 'weight': must be an integer, 1 to 65535, not a string"])
    }

    func test_the_values_reach_the_boot_manifest() throws {
        let placed = try BootLayout.place(try load("weight = 65535\ncap = 25\n").get(), at: 0x4800_0000)
        XCTAssertEqual(placed.guests[0].weight, 65535)
        XCTAssertEqual(placed.guests[0].cap, 25)
        let back = try BootManifest(guests: placed.guests).encoded.withUnsafeBytes { try BootManifest(bytes: $0) }
        XCTAssertEqual(back.guests[0].weight, 65535)
        XCTAssertEqual(back.guests[0].cap, 25)
        XCTAssertEqual(back.guests[0].layout, placed.guests[0].layout, "beside the other flags")
        XCTAssertTrue(back.guests[0].autostart)
    }
}
