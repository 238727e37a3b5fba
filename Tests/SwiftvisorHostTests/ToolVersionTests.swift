import Foundation
import XCTest
@testable import SwiftvisorHost

/// `swiftvisor --version`.
final class ToolVersionTests: XCTestCase {
    func test_the_version_names_the_tool_its_number_and_the_commit_when_known() {
        XCTAssertEqual(ToolVersion.describe(commit: "9b8aa55"), "swiftvisor \(ToolVersion.number) (commit 9b8aa55)")
        XCTAssertEqual(ToolVersion.describe(commit: nil), "swiftvisor \(ToolVersion.number)")
        XCTAssertNotNil(ToolVersion.number.range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression))
    }

    func test_only_a_hash_from_git_is_taken_as_the_commit() {
        XCTAssertEqual(ToolVersion.parseCommit("9b8aa55\n"), "9b8aa55")
        XCTAssertEqual(ToolVersion.parseCommit("9b8aa55-dirty\n"), "9b8aa55-dirty")
        XCTAssertNil(ToolVersion.parseCommit("fatal: detected dubious ownership in repository at '/work'"))
        XCTAssertNil(ToolVersion.parseCommit(""))
    }

    func test_a_folder_that_is_not_a_git_checkout_has_no_commit() {
        XCTAssertNil(ToolVersion.commit(in: FileManager.default.temporaryDirectory))
    }
}
