import Foundation
import XCTest
@testable import SwiftvisorHost

/// A short run of the xenstore fuzzer (Tests/Fuzz/xenstore-fuzz.sh): arbitrary bytes on two
/// guests' store rings must neither crash the server nor break its invariants.
final class XenstoreFuzzTests: XCTestCase {
    func test_fifteen_seconds_of_fuzzing_find_nothing() throws {
        let toolchain = try Toolchain()
        let runtime = toolchain.bin.deletingLastPathComponent().appendingPathComponent("lib/clang")
        let hasFuzzer = (FileManager.default.enumerator(atPath: runtime.path)?.contains { ($0 as? String)?.contains("libclang_rt.fuzzer") == true }) ?? false
        try XCTSkipUnless(hasFuzzer, "the Swift toolchain in \(toolchain.bin.path) has no libFuzzer runtime")
        let script = ProjectLayout.current.root.appendingPathComponent("Tests/Fuzz/xenstore-fuzz.sh").path
        // A fixed seed: the same inputs on every run. Findings land in a temporary folder.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("xenstore-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = try Shell.run("/bin/sh", [script, "15", "-seed=1", "-artifact_prefix=\(scratch.path)/"], currentDirectory: scratch)
        XCTAssertTrue(output.contains("DONE"), output)
    }
}
