import XCTest
@testable import SwiftvisorHost

extension SystemTests {
    /// Issue 11 §2: Guests/aarch32 runs AArch32 EL0 code under its AArch64 EL1. Its 16-bit T32,
    /// 32-bit T32 and A32 WFIs trap to EL2 and must resume at the next instruction (ESR_EL2.IL
    /// says how long the trapped one was); the timer's interrupt while EL0 runs is taken at
    /// VBAR_EL1 + 0x680 and the data abort the hypervisor injects at VBAR_EL1 + 0x600 (lower EL
    /// using AArch32). On cortex-a57 and on max (both have AArch32 at EL0 under QEMU 7.2), with
    /// a GICv3 and a GICv2.
    func test_aarch32_el0_resumes_after_trapped_wfi_and_takes_its_exceptions_at_0x600() throws {
        for machine in Self.only([Machine(cpu: "cortex-a57"), Machine(cpu: "max"), Self.gicv2]) {
            let o = try run(systems.appendingPathComponent("aarch32.toml"), cpu: machine.cpu, vhe: machine.vhe, gic: machine.gic)
            let lines = o.report.guestLines["aarch32"] ?? []
            let what = machine.description + log(o)
            XCTAssertEqual(o.verdict, .success, what)
            for line in ["aarch32: thumb16 wfi resumed ok", "aarch32: thumb32 wfi resumed ok", "aarch32: arm wfi resumed ok",
                         "aarch32: timer interrupt taken at VBAR_EL1 + 0x680",
                         "aarch32: data abort injected at VBAR_EL1 + 0x600", "aarch32: PASS", "0 failure(s)"] {
                XCTAssertTrue(lines.contains(line), line + "; " + what)
            }
        }
    }
}
