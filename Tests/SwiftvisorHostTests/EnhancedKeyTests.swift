import Foundation
import XCTest
@testable import SwiftvisorHost
import SwiftvisorCore

/// The `enhanced` guest key (dom0less `xen,enhanced`): its three values reach the boot
/// manifest; anything else is an error on its own line.
final class EnhancedKeyTests: XCTestCase {
    var dir: URL!
    var file: URL { dir.appendingPathComponent("system.toml") }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-enhanced-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(tinyELF(machine: 183)).write(to: dir.appendingPathComponent("kernel.elf"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ extra: String) -> Result<LoadedSystem, [ConfigError]> {
        try! Data("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\n\(extra)".utf8).write(to: file)
        do { return .success(try ConfigLoader.load(file) { _ in nil }) } catch let e as [ConfigError] { return .failure(e) } catch {
            XCTFail("unexpected \(error)"); return .failure([])
        }
    }

    func test_the_three_values_and_the_default() throws {
        XCTAssertEqual(try load("").get().description.guests[0].enhanced, .enabled)
        XCTAssertEqual(try load("enhanced = \"enabled\"\n").get().description.guests[0].enhanced, .enabled)
        XCTAssertEqual(try load("enhanced = \"no-xenstore\"\n").get().description.guests[0].enhanced, .noXenstore)
        XCTAssertEqual(try load("enhanced = \"disabled\"\n").get().description.guests[0].enhanced, .disabled)
    }

    func test_other_values_are_errors_on_their_line() {
        guard case .failure(let e) = load("enhanced = \"yes\"\n") else { return XCTFail("accepted") }
        XCTAssertEqual(e.map(\.description), ["\(file.path):5: 'enhanced': 'yes' is not a choice: write \"enabled\", \"no-xenstore\" or \"disabled\" (Xen's dom0less xen,enhanced)"])
        guard case .failure(let t) = load("enhanced = true\n") else { return XCTFail("accepted") }
        XCTAssertEqual(t.map(\.description), ["\(file.path):5: 'enhanced': must be a string: \"enabled\", \"no-xenstore\" or \"disabled\", not a boolean"])
    }

    func test_the_value_reaches_the_boot_manifest() throws {
        let system = try load("enhanced = \"disabled\"\n").get()
        let placed = try BootLayout.place(system, at: 0x4800_0000)
        XCTAssertEqual(placed.guests[0].enhanced, .disabled)
        let back = try BootManifest(guests: placed.guests).encoded.withUnsafeBytes { try BootManifest(bytes: $0) }
        XCTAssertEqual(back.guests[0].enhanced, .disabled)
    }
}
