import Foundation
import XCTest
@testable import SwiftvisorHost

/// The reference counts `bench` prints are docs/performance.md's: the two must agree.
final class ReferenceFiguresTests: XCTestCase {
    let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/performance.md")

    func test_docs_performance_md_has_the_same_reference_figures_as_the_host_tool() throws {
        let text = try String(contentsOf: doc, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        // The header names the reference columns, in ReferenceFigures.systems' order, last.
        let header = try XCTUnwrap(lines.first { $0.hasPrefix("| operation from the guest |") })
        XCTAssertEqual(Array(cells(header).suffix(ReferenceFigures.systems.count)), ReferenceFigures.systems.map(\.title))
        for (figure, counts) in ReferenceFigures.instructions {
            let row = try XCTUnwrap(lines.first { $0.hasPrefix("|") && $0.contains("(`\(figure)`)") }, "no row for \(figure)")
            let docCounts = cells(row).suffix(ReferenceFigures.systems.count).map { Int($0) }
            XCTAssertEqual(docCounts, ReferenceFigures.systems.map { counts[$0.id] }, figure)
        }
        XCTAssertTrue(text.contains("about 0.19 x 10^9"), "the Xen Linux boot overhead")
        XCTAssertEqual(ReferenceFigures.xenLinuxBootOverhead, 190_000_000)
    }

    func test_the_ratio_is_the_reference_over_swiftvisor_and_absent_for_zero() {
        XCTAssertEqual(ReferenceFigures.ratio(reference: 417, swiftvisor: 105)!, 3.971, accuracy: 0.001)
        XCTAssertNil(ReferenceFigures.ratio(reference: 417, swiftvisor: 0))
        XCTAssertEqual(BenchReport.format(ratio: 3.971), "4.0x")
    }

    func cells(_ row: String) -> [String] {
        row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
