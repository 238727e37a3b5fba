import XCTest
@testable import SwiftvisorCore

/// A trapped WFIT whose syndrome does not name its register (ESR.RV = 0) is decoded from the
/// instruction itself (Arm ARM C6.2 "WFIT": 0xD5031020 | Rd).
final class WFITInstructionTests: XCTestCase {
    func test_wfit_gives_its_register() {
        // As LLVM assembles them: wfit x3, wfit x0, wfit x30, wfit xzr.
        XCTAssertEqual(WFITInstruction(0xD503_1023)?.register, 3)
        XCTAssertEqual(WFITInstruction(0xD503_1020)?.register, 0)
        XCTAssertEqual(WFITInstruction(0xD503_103E)?.register, 30)
        XCTAssertEqual(WFITInstruction(0xD503_103F)?.register, 31, "XZR: a timeout of 0")
    }

    func test_other_instructions_are_not_wfit() {
        XCTAssertNil(WFITInstruction(0xD503_1011), "wfet x17")
        XCTAssertNil(WFITInstruction(0xD503_207F), "wfi")
        XCTAssertNil(WFITInstruction(0xD503_205F), "wfe")
        XCTAssertNil(WFITInstruction(0xD503_1060), "op2 = 0b011: not WFIT")
        XCTAssertNil(WFITInstruction(0xD513_1020), "a fixed bit of the system-instruction space differs")
        XCTAssertNil(WFITInstruction(0x0000_BF30), "a T32 WFI")
        XCTAssertNil(WFITInstruction(0))
    }
}
