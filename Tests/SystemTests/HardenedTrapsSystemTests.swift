import Foundation
import XCTest
@testable import SwiftvisorHost

/// Issue 11 §2, hardened traps: Guests/traps reads the IMPLEMENTATION DEFINED registers that
/// would tell it the physical core count (L2CTLR_EL1) and GIC base (CBAR_EL1), and the
/// LORegion, trace filter and RAS error record registers; asks SMCCC 1.1 for the Arm
/// architecture workarounds and calls those offered; suspends with PSCI CPU_SUSPEND until its
/// timer fires; cleans the UART's range by VA; where FEAT_WFxT is, waits in WFIT until its
/// timeout and until an interrupt comes first. The boot log names the Spectre-v2 choice for
/// guest exits (none here: QEMU's firmware has no SMCCC_ARCH_WORKAROUND_1).
///
/// On `virt` these run on QEMU 10 (the cached bookworm-backports build the boards use): QEMU
/// 7.2's CPU models do not implement HCR_EL2.TIDCP, so there the guest reads L2CTLR_EL1 and
/// CBAR_EL1 whatever EL2 asks (a model gap, not the hypervisor's: real cores trap).
final class HardenedTrapsSystemTests: XCTestCase {
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")

    struct Machine: CustomStringConvertible {
        var cpu: String
        var vhe = false
        var board = Board.virt
        /// SMCCC_ARCH_FEATURES for WORKAROUND_1, _2, _3: Cortex-A57/A72 are affected by
        /// Spectre-v2 and BHB (0: offered); QEMU 10's `max` has CSV2 and ECBHB/CSV2_3 (1: not
        /// required); store bypass is offered nowhere (-1; in-order cores get -2, NOT_REQUIRED).
        var features: String
        var description: String { board == .virt ? (vhe ? cpu + " --vhe" : cpu) : "--machine \(board.rawValue)" }
    }

    func test_a_guest_learns_no_host_facts_and_gets_smccc_1_1() throws {
        let qemu10 = try BackportQEMU(cacheDirectory: LinuxAssets.defaultCache, log: { _ in }).fetch(reason: "HCR_EL2.TIDCP")
        let machines = SystemTests.only([
            Machine(cpu: "cortex-a57", features: "WORKAROUND_1 0, WORKAROUND_2 -1, WORKAROUND_3 0"),
            Machine(cpu: "max", features: "WORKAROUND_1 1, WORKAROUND_2 -1, WORKAROUND_3 1"),
            Machine(cpu: "max", vhe: true, features: "WORKAROUND_1 1, WORKAROUND_2 -1, WORKAROUND_3 1"),
            Machine(cpu: "cortex-a72", board: .raspi4b, features: "WORKAROUND_1 0, WORKAROUND_2 -1, WORKAROUND_3 0"),
        ])
        for machine in machines {
            var options = SystemRunner.Options()
            options.board = machine.board
            options.cpu = machine.cpu
            options.vhe = machine.vhe
            options.timeout = 60
            options.echo = false
            options.qemuInstallation = qemu10
            let o = try SystemRunner(log: { _ in }).run(systems.appendingPathComponent("traps.toml"), options: options)
            let lines = o.report.guestLines["traps"] ?? []
            let log = machine.description + "\n--- console ---\n" + o.lines.joined(separator: "\n")
            XCTAssertEqual(o.verdict, .success, log)
            XCTAssertFalse(lines.contains { $0.hasPrefix("FAIL") }, log)
            for line in ["ok L2CTLR_EL1 (physical core count) -> undefined", "ok CBAR_EL1 (physical GIC base) -> undefined",
                         "ok CPUACTLR_EL1 -> undefined", "ok nothing read from the IMPLEMENTATION DEFINED registers",
                         "ok LORID_EL1 -> undefined", "ok TRFCR_EL1 -> undefined",
                         "ok ERRIDR_EL1: no error records (reads 0, or undefined without FEAT_RAS)",
                         "ok PSCI_FEATURES(SMCCC_VERSION) -> 0", "ok SMCCC_VERSION -> 1.1",
                         "SMCCC_ARCH_FEATURES: " + machine.features,
                         "ok CPU_SUSPEND -> SUCCESS", "ok CPU_SUSPEND returned once the timer interrupt was pending",
                         "ok DC CIVAC on the UART -> no fault", "0 failure(s)"] {
                XCTAssertTrue(lines.contains(line), line + " " + log)
            }
            if machine.features.hasPrefix("WORKAROUND_1 0") {
                XCTAssertTrue(lines.contains("ok SMCCC_ARCH_WORKAROUND_1 (HVC) -> 0") && lines.contains("ok SMCCC_ARCH_WORKAROUND_3 -> 0"), log)
            }
            // The boot log says once what guest exits do against Spectre-v2 (GuestExitHardening):
            // QEMU's firmware has no SMCCC_ARCH_WORKAROUND_1, so nothing, on every model.
            let spectre = o.lines.filter { $0.contains("Spectre-v2: ") }
            XCTAssertEqual(spectre.count, 1, log)
            XCTAssertTrue(spectre.first?.hasSuffix(machine.features.hasPrefix("WORKAROUND_1 0")
                ? "Spectre-v2: affected core, no firmware SMCCC_ARCH_WORKAROUND_1; nothing on guest exit, IC IALLU on VM switch (invalidates the branch predictor only if EL3 enabled it)"
                : "Spectre-v2: core not affected; nothing on guest exit") ?? false, log)
            // QEMU 10's max has FEAT_WFxT, the Cortex models not. Its trapped WFIT says RV = 0
            // (register unknown): the hypervisor reads the instruction and sleeps until the
            // timeout or an interrupt.
            XCTAssertTrue(lines.contains(machine.cpu == "max" ? "FEAT_WFxT present" : "no FEAT_WFxT"), log)
            if machine.cpu == "max" {
                for line in ["ok WFIT with nothing pending returned at its timeout (not before)",
                             "ok WFIT with nothing pending returned within 1 s of its timeout",
                             "ok WFIT returned once the timer interrupt was pending",
                             "ok WFIT ended by the interrupt well before its timeout"] {
                    XCTAssertTrue(lines.contains(line), line + " " + log)
                }
            }
        }
    }
}
