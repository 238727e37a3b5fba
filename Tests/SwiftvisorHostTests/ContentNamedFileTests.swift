import Foundation
import XCTest
@testable import SwiftvisorHost

/// The Linux guests' initramfs and system descriptions in the shared cache: runs in parallel
/// each read the file they built, whole.
final class ContentNamedFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("content-named-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    func entries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }

    func test_the_name_follows_the_contents() {
        let a = ContentNamedFile.name(prefix: "initramfs", extension: "cpio", contents: Array("one build".utf8))
        XCTAssertEqual(a, ContentNamedFile.name(prefix: "initramfs", extension: "cpio", contents: Array("one build".utf8)))
        XCTAssertNotEqual(a, ContentNamedFile.name(prefix: "initramfs", extension: "cpio", contents: Array("another build".utf8)))
        XCTAssertTrue(a.hasPrefix("initramfs-") && a.hasSuffix(".cpio"), a)
        XCTAssertEqual(a.count, "initramfs-".count + 16 + ".cpio".count, a)
        // FNV-1a's published value for the empty input.
        XCTAssertEqual(ContentNamedFile.name(prefix: "x", extension: "y", contents: []), "x-cbf29ce484222325.y")
    }

    func test_each_build_reads_its_own_file_and_no_temporary_file_is_left() throws {
        let first = try ContentNamedFile.write(Array("built by one run".utf8), in: directory, prefix: "initramfs", extension: "cpio")
        let second = try ContentNamedFile.write(Array("built by another".utf8), in: directory, prefix: "initramfs", extension: "cpio")
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try Data(contentsOf: first), Data("built by one run".utf8))
        XCTAssertEqual(try Data(contentsOf: second), Data("built by another".utf8))
        // The same contents again: the same file.
        XCTAssertEqual(try ContentNamedFile.write(Array("built by one run".utf8), in: directory, prefix: "initramfs", extension: "cpio"), first)
        XCTAssertEqual(try entries(), [first.lastPathComponent, second.lastPathComponent].sorted())
    }

    /// Eight writers at once, each with its own contents, many times: every one reads back
    /// exactly what it wrote (never a half-written file, never another's).
    func test_writers_in_parallel_never_read_a_half_written_or_anothers_file() throws {
        let dir = directory!
        final class Failures: @unchecked Sendable {
            let lock = NSLock(); var all: [String] = []
            func add(_ s: String) { lock.lock(); all.append(s); lock.unlock() }
        }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { writer in
            let contents = [UInt8](repeating: UInt8(writer), count: 1 << 18) + Array("writer \(writer)".utf8)
            for _ in 0..<10 {
                do {
                    let file = try ContentNamedFile.write(contents, in: dir, prefix: "initramfs", extension: "cpio")
                    if try [UInt8](Data(contentsOf: file)) != contents { failures.add("writer \(writer) read another file") }
                } catch {
                    failures.add("writer \(writer): \(error)")
                }
            }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(try entries().count, 8, "one file per contents, no temporary file left")
    }

    func test_files_unused_for_a_day_are_removed_and_others_kept() throws {
        let old = try ContentNamedFile.write(Array("last week's build".utf8), in: directory, prefix: "initramfs", extension: "cpio")
        let recent = try ContentNamedFile.write(Array("an hour ago".utf8), in: directory, prefix: "initramfs", extension: "cpio")
        let leftover = directory.appendingPathComponent(".initramfs-0000000000000000.cpio.123.456.tmp")
        let unrelated = directory.appendingPathComponent("linux-alpha-0000000000000000.toml")
        let fixedName = directory.appendingPathComponent("initramfs-netbench.cpio")   // an earlier version's name
        for f in [leftover, unrelated, fixedName] { try Data("x".utf8).write(to: f) }
        let day: TimeInterval = 86400
        let ages: [(URL, TimeInterval)] = [(old, 7 * day), (recent, day / 24), (leftover, 2 * day), (unrelated, 7 * day), (fixedName, 7 * day)]
        for (f, age) in ages {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: f.path)
        }
        let now = try ContentNamedFile.write(Array("this build".utf8), in: directory, prefix: "initramfs", extension: "cpio")
        XCTAssertEqual(try entries(), [recent.lastPathComponent, now.lastPathComponent, unrelated.lastPathComponent, fixedName.lastPathComponent].sorted())
    }
}
