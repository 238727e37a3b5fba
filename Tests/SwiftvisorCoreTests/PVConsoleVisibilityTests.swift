import XCTest
@testable import SwiftvisorCore

final class PVConsoleVisibilityTests: XCTestCase {
    func test_hvc0_is_shown_when_the_command_line_names_it() {
        XCTAssertTrue(PVConsoleVisibility.shown(commandLine: "console=hvc0 swiftvisor.shell"))
        XCTAssertTrue(PVConsoleVisibility.shown(commandLine: "console=ttyAMA0 console=hvc0"))
        XCTAssertTrue(PVConsoleVisibility.shown(commandLine: "quiet console=hvc0,115200"))
    }

    func test_hvc0_is_hidden_when_the_command_line_names_only_other_consoles() {
        // Linux enables hvc0 as a console anyway: its messages would appear twice.
        XCTAssertFalse(PVConsoleVisibility.shown(commandLine: "console=ttyAMA0 swiftvisor.name=alpha"))
        XCTAssertFalse(PVConsoleVisibility.shown(commandLine: "console=hvc1"))
        XCTAssertFalse(PVConsoleVisibility.shown(commandLine: "console=hvc0x"))
    }

    func test_hvc0_is_shown_when_the_command_line_names_no_console() {
        XCTAssertTrue(PVConsoleVisibility.shown(commandLine: ""))
        XCTAssertTrue(PVConsoleVisibility.shown(commandLine: "interactive garbage"))
        XCTAssertTrue(PVConsoleVisibility.shown(commandLine: "xconsole=ttyAMA0"))
    }
}
