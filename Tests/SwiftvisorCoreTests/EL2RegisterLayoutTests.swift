import XCTest
@testable import SwiftvisorCore

/// The typed EL2 registers give exactly the values swiftvisor wrote as raw numbers before
/// they were typed, so typing them changed nothing the hardware sees.
final class EL2RegisterLayoutTests: XCTestCase {
    func test_vtcr_is_a_39_bit_ipa_walked_from_level_1() {
        for ps: UInt64 in 0...5 {
            let raw: UInt64 = 25 | 1 << 6 | 1 << 8 | 1 << 10 | 3 << 12 | ps << 16 | 1 << 31
            XCTAssertEqual(VTCR.guest(outputSize: ps).rawValue, raw, "PS \(ps)")
        }
        let v = VTCR.guest(outputSize: 5)
        XCTAssertEqual(64 - v.t0sz, 39, "IPA bits (Arm ARM D19.2.174: 2^(64-T0SZ))")
        XCTAssertEqual(v.sl0, 0b01, "start at level 1 with a 4 KiB granule")
        XCTAssertEqual(v.tg0, 0b00, "4 KiB granule")
        XCTAssertFalse(v.vs, "8-bit VMIDs")
    }

    func test_vtcr_fields_round_trip() {
        var v = VTCR()
        v.ps = 0b111; v.vs = true
        XCTAssertEqual(v.rawValue, 0b1111 << 16)
        v.ps = 0
        XCTAssertEqual(v.rawValue, 1 << 19)
    }

    func test_sctlr_el2_sets_mmu_caches_and_alignment_above_res1() {
        XCTAssertEqual(SCTLR.el2RES1.rawValue, 0x30C5_0830)
        XCTAssertEqual(SCTLR.el2.rawValue, 0x30C5_0830 | 1 << 0 | 1 << 2 | 1 << 3 | 1 << 12)
        XCTAssertTrue(SCTLR.el2.span, "E2H = 1: SPAN = 1 leaves PSTATE.PAN alone on entry to EL2")
        XCTAssertFalse(SCTLR.el2.a, "no alignment checks on data")
    }

    func test_cptr_in_both_layouts() {
        XCTAssertEqual(CPTR.guest(.el2).rawValue, 0x10_33FF, "the value used with E2H = 0 (TTA, bit 20)")
        XCTAssertEqual(CPTR.guest(.el2And0).rawValue, 0b11 << 20 | 1 << 28, "the value used with E2H = 1 (TTA, bit 28)")
        let nvhe = CPTR.guest(.el2)
        XCTAssertFalse(nvhe.tfp); XCTAssertTrue(nvhe.tz); XCTAssertTrue(nvhe.tsm)
        let vhe = CPTR.guest(.el2And0)
        XCTAssertEqual(vhe.fpen, 0b11); XCTAssertEqual(vhe.zen, 0); XCTAssertEqual(vhe.smen, 0)
        XCTAssertEqual(EL2Regime.el2.cptr, nvhe, "EL2Regime gives the same")
    }

    func test_mdcr_traps_pmu_and_debug_and_keeps_every_counter() {
        for n: UInt64 in [0, 6, 31] {
            let pmcr = n << 11 | 0x41 << 24 | 1   // IMP and E around N must not leak into HPMN
            XCTAssertEqual(MDCR.guest(pmcr: pmcr).rawValue,
                           (pmcr >> 11 & 0x1F) | 1 << 5 | 1 << 6 | 1 << 9 | 1 << 10 | 1 << 11)
            XCTAssertEqual(MDCR.guest(pmcr: pmcr).hpmn, n)
        }
        XCTAssertFalse(MDCR.guest(pmcr: 0).tde, "debug exceptions stay with the guest")
    }

    func test_cnthctl_moves_its_bits_with_e2h() {
        XCTAssertEqual(CNTHCTL.guest(.el2).rawValue, 1)
        XCTAssertEqual(CNTHCTL.guest(.el2And0).rawValue, 1 << 10)
        XCTAssertTrue(CNTHCTL.guest(.el2And0).el1pcten(.el2And0))
        XCTAssertFalse(CNTHCTL.guest(.el2And0).el1pcen(.el2And0), "the physical timer traps")
        var c = CNTHCTL()
        c.setEL1PCEN(true, .el2)
        XCTAssertEqual(c.rawValue, 1 << 1)
    }

    func test_timer_control_bits() {
        XCTAssertEqual(TimerControl.armed.rawValue, 1, "CNTHP_CTL as PreemptionTimer.arm wrote it")
        XCTAssertEqual(TimerControl.disabled.rawValue, 0)
        XCTAssertEqual(TimerControl.masked, 0b10)
        let fired = TimerControl(rawValue: 0b101)
        XCTAssertTrue(fired.enable); XCTAssertFalse(fired.imask); XCTAssertTrue(fired.istatus)
        XCTAssertTrue(fired.firesAtCompareValue)
        XCTAssertFalse(TimerControl(rawValue: 0b11).firesAtCompareValue, "masked")
        XCTAssertFalse(TimerControl(rawValue: 0b10).firesAtCompareValue, "disabled")
    }
}

/// The PL011's register map, as the emulated UART and the host's driver use it (PL011 TRM 3.2).
final class PL011RegisterTests: XCTestCase {
    func test_offsets_and_bits_are_the_trms() {
        XCTAssertEqual(PL011Register.fr.rawValue, 0x18)
        XCTAssertEqual(PL011Register.imsc.rawValue, 0x38)
        XCTAssertEqual(PL011Register.icr.rawValue, 0x44)
        XCTAssertEqual(PL011Flags.transmitFIFOFull.rawValue, 1 << 5, "what a driver polls before writing DR")
        XCTAssertEqual(PL011Flags.receiveFIFOEmpty.rawValue, 1 << 4)
        XCTAssertEqual(PL011Control.reset.rawValue, 0x300, "TXE | RXE")
        XCTAssertEqual(([.receive, .receiveTimeout] as PL011Interrupts).rawValue, 1 << 4 | 1 << 6)
    }

    func test_the_emulated_uart_reads_with_the_same_bits() {
        var u = PL011()
        XCTAssertEqual(PL011Flags(rawValue: u.read(offset: PL011Register.fr.rawValue)), [.transmitFIFOEmpty, .receiveFIFOEmpty])
        XCTAssertEqual(u.read(offset: PL011Register.cr.rawValue), PL011Control.reset.rawValue)
        XCTAssertTrue(u.receive(0x41))
        XCTAssertEqual(PL011Flags(rawValue: u.read(offset: PL011Register.fr.rawValue)), .transmitFIFOEmpty)
        XCTAssertEqual(PL011Interrupts(rawValue: u.read(offset: PL011Register.ris.rawValue)), [.transmit, .receive, .receiveTimeout])
        _ = u.write(offset: PL011Register.cr.rawValue, value: 0xFFFF_FFFF)
        XCTAssertEqual(u.read(offset: PL011Register.cr.rawValue), 0xFF87, "reserved bits read as zero")
    }
}

/// TCR_EL2 in both layouts gives the numbers swiftvisor wrote before it was typed.
final class TCRLayoutTests: XCTestCase {
    func test_tcr_is_the_raw_value_used_before() {
        for ps: UInt64 in 0...5 {
            let walk: UInt64 = 16 | 1 << 8 | 1 << 10 | 3 << 12
            XCTAssertEqual(TCR.hypervisor(.el2, outputSize: ps).rawValue, walk | ps << 16 | 1 << 23 | 1 << 31)
            XCTAssertEqual(TCR.hypervisor(.el2And0, outputSize: ps).rawValue, walk | 16 << 16 | 1 << 23 | 0b10 << 30 | ps << 32)
        }
        let vhe = TCR.hypervisor(.el2And0, outputSize: 2)
        XCTAssertEqual(vhe.ips, 2); XCTAssertTrue(vhe.epd1); XCTAssertEqual(64 - vhe.t0sz, 48)
        XCTAssertEqual(TCR.hypervisor(.el2, outputSize: 2).ps, 2)
    }
}
