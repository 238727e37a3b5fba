import Foundation
import XCTest
@testable import SwiftvisorHost

/// Self-hosted debug per vCPU (issue 11 §3) on both CPU models: Guests/debugcheck checks a
/// hardware breakpoint, a store watchpoint, single-step over 17 instructions (one of which the
/// hypervisor emulates), BRK and the OS lock (no breakpoint, watchpoint or step
/// exception while it is set, Arm ARM D2.5) from its own EL1; then two guests pinned to core 0
/// run the same code at the same addresses for 3 s, one with a breakpoint and a watchpoint on
/// it (every call and store hits) and one without (none hits, its registers read zero), and
/// both see themselves switched out while they ran.
final class DebugSystemTests: XCTestCase {
    static let machines = SystemTests.only([SystemTests.Machine(cpu: "cortex-a57"), SystemTests.Machine(cpu: "max")])
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")

    func test_breakpoints_watchpoints_and_steps_reach_only_their_own_guest() throws {
        for machine in Self.machines {
            let cpu = machine.description
            var options = SystemRunner.Options()
            options.cpu = machine.cpu
            options.timeout = 90
            options.echo = false
            let o = try SystemRunner(log: { _ in }).run(systems.appendingPathComponent("debug.toml"), options: options)
            let log = "\n--- console ---\n" + o.lines.joined(separator: "\n")
            XCTAssertEqual(o.verdict, .success, cpu + log)
            for name in ["debug", "armed", "clean"] {
                let lines = o.report.guestLines[name] ?? []
                XCTAssertFalse(lines.contains { $0.hasPrefix("FAIL") }, "\(cpu) \(name)" + log)
                XCTAssertEqual(lines.last, "0 failure(s)", "\(cpu) \(name)" + log)
            }
            let debug = o.report.guestLines["debug"] ?? []
            for check in ["breakpoint: one exception", "breakpoint: none while the OS lock is set", "breakpoint: hit again after unlocking",
                          "watchpoint: a store hits", "watchpoint: none while the OS lock is set",
                          "step: none while the OS lock is set",
                          "step: MDSCR_EL1 reads MDE, KDE and SS as written while the OS lock is set",
                          "watchpoint: FAR_EL1 is the watched address", "step: one exception per instruction (17)",
                          "brk: ESR_EL1.ISS is the immediate"] {
                XCTAssertTrue(debug.contains("ok " + check), "\(cpu): \(check)" + log)
            }
            XCTAssertTrue((o.report.guestLines["armed"] ?? []).contains("ok isolation: every call and store hit this guest's breakpoint and watchpoint"), cpu + log)
            XCTAssertTrue((o.report.guestLines["clean"] ?? []).contains("ok isolation: no debug exception from another guest's breakpoints"), cpu + log)
        }
    }
}
