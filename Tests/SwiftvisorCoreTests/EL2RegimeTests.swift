import XCTest
@testable import SwiftvisorCore

/// HCR_EL2.E2H: when swiftvisor runs with it set, and the register layouts that move with it.
final class EL2RegimeTests: XCTestCase {
    func test_e2h_is_zero_unless_it_must_be_one_or_is_asked_for() {
        XCTAssertEqual(EL2Regime.choose(hasVHE: false, mmfr4: 0, requested: false).0, .el2)
        XCTAssertEqual(EL2Regime.choose(hasVHE: true, mmfr4: 0, requested: false).0, .el2, "as Xen, where E2H can be 0")
        XCTAssertTrue(EL2Regime.choose(hasVHE: true, mmfr4: 0, requested: true) == (.el2And0, .requested))
        XCTAssertEqual(EL2Regime.choose(hasVHE: false, mmfr4: 0, requested: true).0, .el2, "no VHE: the request cannot be met")
    }

    func test_a_cpu_without_feat_e2h0_runs_with_e2h_set() {
        // ID_AA64MMFR4_EL1.E2H0, bits 27:24: 0b1111 NI, 0b1110 NI_NV1 (signed: negative).
        for field: UInt64 in [0b1111, 0b1110] {
            XCTAssertTrue(EL2Regime.choose(hasVHE: true, mmfr4: field << 24, requested: false) == (.el2And0, .e2hIsRES1))
        }
        XCTAssertFalse(EL2Regime.e2hIsRES1(mmfr4: 0xF << 20 | 0xF << 28), "neighbouring fields do not count")
    }

    func test_hcr_differs_only_in_e2h() {
        XCTAssertFalse(EL2Regime.el2.hcr.e2h)
        XCTAssertTrue(EL2Regime.el2And0.hcr.e2h)
        XCTAssertEqual(EL2Regime.el2And0.hcr.rawValue, HCR.guest.rawValue | 1 << 34)
    }

    func test_tcr_layouts() {
        // E2H = 0: the value swiftvisor has always used (PS = 0b101, 48 bits).
        XCTAssertEqual(EL2Regime.el2.tcr(outputSize: 5).rawValue, 0x8085_3510)
        // E2H = 1: same walk attributes, EPD1 set, TG1 4 KiB, IPS at 34:32, nothing at 18:16 but T1SZ.
        let vhe = EL2Regime.el2And0.tcr(outputSize: 5).rawValue
        XCTAssertEqual(vhe & 0xFFFF, 0x3510)
        XCTAssertEqual(vhe >> 16 & 0x3F, 16, "T1SZ")
        XCTAssertEqual(vhe >> 23 & 1, 1, "EPD1")
        XCTAssertEqual(vhe >> 30 & 3, 0b10, "TG1 4 KiB")
        XCTAssertEqual(vhe >> 32 & 7, 5, "IPS")
    }

    func test_fp_untrapped_and_physical_counter_readable_in_both_layouts() {
        XCTAssertEqual(EL2Regime.el2.cptr.rawValue & 1 << 10, 0, "TFP clear")
        XCTAssertEqual(EL2Regime.el2And0.cptr.rawValue >> 20 & 3, 0b11, "FPEN")
        XCTAssertEqual(EL2Regime.el2And0.cptr.rawValue >> 16 & 3, 0, "ZEN: SVE traps")
        XCTAssertEqual(EL2Regime.el2.cnthctl.rawValue, 1, "EL1PCTEN bit 0")
        XCTAssertEqual(EL2Regime.el2And0.cnthctl.rawValue, 1 << 10, "EL1PCTEN bit 10, EL1PCEN (11) clear")
    }

    func test_el2_and_0_mappings_are_privileged_execute_never_when_not_executable() {
        let nvhe = EL2Stage1Attributes(memory: .device, executable: false).descriptorBits
        let vhe = EL2Stage1Attributes(memory: .device, executable: false, regime: .el2And0).descriptorBits
        XCTAssertEqual(nvhe >> 53 & 0b11, 0b10, "XN only; bit 53 RES0")
        XCTAssertEqual(vhe >> 53 & 0b11, 0b11, "UXN and PXN")
        XCTAssertEqual(EL2Stage1Attributes(memory: .normal, executable: true, regime: .el2And0).descriptorBits >> 53, 0)
    }
}
