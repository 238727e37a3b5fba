import XCTest
@testable import SwiftvisorCore

/// What a guest's EL1 sees when swiftvisor injects an exception: the vector it enters, the
/// syndrome and the PSTATE, as AArch64.TakeException would give them (Arm ARM D1.10).
final class InjectedExceptionTests: XCTestCase {
    let el1h = SPSR(rawValue: 0b0101)
    let el1t = SPSR(rawValue: 0b0100)
    let el0 = SPSR(rawValue: 0b0000)
    let el0AArch32 = SPSR(rawValue: 0b1_0000)   // M[4] = 1, User mode
    let sctlr = SCTLR(rawValue: 0x30D0_0800 | 1 << 23)   // SPAN = 1: PAN not touched

    func inject(_ kind: InjectedException.Kind, from spsr: SPSR, sctlr: SCTLR? = nil, hasPAN: Bool = false) -> InjectedException {
        InjectedException(kind, interrupted: spsr, guestSCTLR: sctlr ?? self.sctlr, hasPAN: hasPAN)
    }

    func test_the_vector_is_chosen_by_where_the_guest_was() {
        // D1.10.2: current EL with SP_EL0 0x000, with SP_ELx 0x200, lower EL AArch64 0x400,
        // AArch32 0x600; synchronous is the first entry of each.
        XCTAssertEqual(inject(.undefinedInstruction, from: el1t).vectorOffset, 0x000)
        XCTAssertEqual(inject(.undefinedInstruction, from: el1h).vectorOffset, 0x200)
        XCTAssertEqual(inject(.undefinedInstruction, from: el0).vectorOffset, 0x400)
        XCTAssertEqual(inject(.undefinedInstruction, from: el0AArch32).vectorOffset, 0x600)
        XCTAssertEqual(inject(.undefinedInstruction, from: SPSR(rawValue: 0x3C5)).origin, .currentELWithSPx, "DAIF bits do not matter")
        XCTAssertEqual(InjectedException.VectorType.irq.rawValue, 0x080)
        XCTAssertEqual(InjectedException.VectorType.serror.rawValue, 0x180)
    }

    func test_a_data_abort_from_el1_is_a_same_el_external_abort_with_wnr() {
        let store = inject(.dataAbort(write: true), from: el1h).syndrome
        XCTAssertEqual(store.exceptionClass, .dataAbortSameEL)
        XCTAssertTrue(store.instructionLength32)
        XCTAssertEqual(store.iss, 0x10 | 1 << 6, "DFSC 0b010000, WnR")
        XCTAssertEqual(store.rawValue, 0x9600_0050, "as ESR_EL1 reads in a Linux oops")
        let load = inject(.dataAbort(write: false), from: el1h).syndrome
        XCTAssertEqual(load.rawValue, 0x9600_0010)
        XCTAssertTrue(inject(.dataAbort(write: false), from: el1h).recordsFaultAddress)
    }

    func test_aborts_from_el0_use_the_lower_el_classes() {
        XCTAssertEqual(inject(.dataAbort(write: false), from: el0).syndrome.rawValue, 0x9200_0010)
        XCTAssertEqual(inject(.instructionAbort, from: el0).syndrome.rawValue, 0x8200_0010)
        XCTAssertEqual(inject(.instructionAbort, from: el0AArch32).syndrome.exceptionClass, .instructionAbortLowerEL)
        XCTAssertEqual(inject(.instructionAbort, from: el1h).syndrome.rawValue, 0x8600_0010)
    }

    func test_an_undefined_instruction_is_ec_0_with_il_set_and_no_fault_address() {
        let undef = inject(.undefinedInstruction, from: el1h)
        XCTAssertEqual(undef.syndrome.rawValue, 0x0200_0000)
        XCTAssertFalse(undef.recordsFaultAddress)
    }

    func test_the_handler_runs_in_el1h_with_every_interrupt_masked() {
        let state = inject(.undefinedInstruction, from: SPSR(rawValue: 0b0101 | 1 << 20 | 1 << 21)).handlerState
        XCTAssertEqual(state.mode, .el1h)
        XCTAssertEqual(state.daif, 0b1111)
        XCTAssertFalse(state.il, "PSTATE.IL is cleared on taking an exception")
        XCTAssertEqual(state, SPSR.el1hMasked, "as swiftvisor has always entered the handler without PAN")
    }

    func test_pan_is_set_when_sctlr_el1_span_is_clear() {
        var noSPAN = sctlr
        noSPAN.span = false
        XCTAssertTrue(inject(.dataAbort(write: false), from: el0, sctlr: noSPAN, hasPAN: true).handlerState.pan)
        XCTAssertFalse(inject(.dataAbort(write: false), from: el0, sctlr: sctlr, hasPAN: true).handlerState.pan,
                       "SPAN = 1: PAN unchanged (was 0)")
        var panSet = el1h
        panSet.pan = true
        XCTAssertTrue(inject(.dataAbort(write: false), from: panSet, sctlr: sctlr, hasPAN: true).handlerState.pan,
                      "SPAN = 1: PAN unchanged (was 1)")
        XCTAssertFalse(inject(.dataAbort(write: false), from: el0, sctlr: noSPAN, hasPAN: false).handlerState.pan,
                       "without FEAT_PAN the bit is RES0")
    }

    func test_a_fault_on_the_injected_vector_is_not_injected_again() {
        XCTAssertTrue(InjectedException.isRepeated(pc: 0xFFFF_8000_1000_0A00, lastInjectedVector: 0xFFFF_8000_1000_0A00))
        XCTAssertFalse(InjectedException.isRepeated(pc: 0xFFFF_8000_1000_0A04, lastInjectedVector: 0xFFFF_8000_1000_0A00))
        XCTAssertFalse(InjectedException.isRepeated(pc: 0, lastInjectedVector: 0), "nothing injected yet")
    }
}
