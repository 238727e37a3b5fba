import XCTest
@testable import SwiftvisorCore

final class TrapDecodingTests: XCTestCase {
    func test_hvc_with_xen_immediate() {
        XCTAssertEqual(Trap(esr: ESR(rawValue: 0x5A00_0EA1), far: 0, hpfar: 0), .hypervisorCall(immediate: 0xEA1))
    }

    func test_trapped_smc_and_wfx() {
        XCTAssertEqual(Trap(esr: ESR(rawValue: 0x5E00_0000), far: 0, hpfar: 0), .secureMonitorCall(immediate: 0))
        XCTAssertEqual(Trap(esr: ESR(rawValue: 0x0600_0000), far: 0, hpfar: 0), .waitForInterrupt)
        XCTAssertEqual(Trap(esr: ESR(rawValue: 0x0600_0001), far: 0, hpfar: 0), .waitForEvent)
    }

    func test_stage2_word_load_syndrome() {
        // EC 0x24, IL, ISV, SAS=word, SRT=3, DFSC translation fault level 3.
        let esr = ESR(rawValue: 0x9383_0007)
        guard case .dataAbort(let a) = Trap(esr: esr, far: 0x0900_0018, hpfar: 0x9_0000) else {  // HPFAR.FIPA = IPA >> 12, at bit 4
            return XCTFail("not a data abort")
        }
        XCTAssertTrue(a.syndromeValid)
        XCTAssertEqual(a.accessSize, 4)
        XCTAssertEqual(a.register, 3)
        XCTAssertFalse(a.isWrite)
        XCTAssertEqual(a.faultStatus, 7)
        XCTAssertEqual(a.ipa, GuestPhysicalAddress(0x0900_0018))
    }

    func test_store_pair_has_no_syndrome() {
        // What a guest's STP to MMIO produces: ISV clear, WnR set.
        guard case .dataAbort(let a) = Trap(esr: ESR(rawValue: 0x9200_0047), far: 0x10, hpfar: 0) else { return XCTFail() }
        XCTAssertFalse(a.syndromeValid)
        XCTAssertTrue(a.isWrite)
    }

    func test_sign_extending_byte_load_into_w_register() {
        // LDRSB w0: SAS=byte, SSE=1, SF=0.
        let a = DataAbort(esr: ESR(rawValue: 0x9320_0007), far: 0, hpfar: 0)
        XCTAssertEqual(MMIOAccess(a, offset: 0, registerValue: 0).loadedValue(0x80), 0xFFFF_FF80)
    }

    func test_sign_extending_halfword_into_x_register() {
        // LDRSH x0: SAS=halfword, SSE=1, SF=1.
        let a = DataAbort(esr: ESR(rawValue: 0x9360_8007), far: 0, hpfar: 0)
        XCTAssertEqual(MMIOAccess(a, offset: 0, registerValue: 0).loadedValue(0x8001), 0xFFFF_FFFF_FFFF_8001)
    }

    func test_unknown_class_is_unhandled() {
        let esr = ESR(rawValue: 0x6600_0000)   // EC 0x19 SVE
        XCTAssertEqual(Trap(esr: esr, far: 0, hpfar: 0), .unhandled(esr))
        XCTAssertEqual(esr.exceptionClass, .sve)
    }

    func test_system_register_access() {
        // MRS x2, PMCR_EL0: op0=3 op1=3 CRn=9 CRm=12 op2=0, read.
        let iss: UInt64 = 3 << 20 | 0 << 17 | 3 << 14 | 9 << 10 | 2 << 5 | 12 << 1 | 1
        guard case .systemRegister(let s) = Trap(esr: ESR(exceptionClass: .systemRegister64, iss: iss), far: 0, hpfar: 0) else { return XCTFail() }
        XCTAssertEqual([s.op0, s.op1, s.crn, s.crm, s.op2], [3, 3, 9, 12, 0])
        XCTAssertEqual(s.register, 2)
        XCTAssertTrue(s.isRead)
    }

    func access(_ op0: UInt64, _ op1: UInt64, _ crn: UInt64, _ crm: UInt64, _ op2: UInt64, read: Bool) -> SystemRegisterAccess {
        SystemRegisterAccess(esr: ESR(exceptionClass: .systemRegister64,
                                      iss: op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | crm << 1 | (read ? 1 : 0)))
    }

    func test_system_register_policy() {
        XCTAssertEqual(SystemRegisterAction(access(2, 0, 0, 2, 2, read: false)), .debugControl, "MDSCR_EL1")
        XCTAssertEqual(SystemRegisterAction(access(2, 0, 1, 1, 4, read: true)), .osLockStatus, "OSLSR_EL1")
        XCTAssertEqual(SystemRegisterAction(access(2, 0, 0, 5, 4, read: false)), .debugRegister(DebugRegister(kind: .breakpointValue, index: 5)), "DBGBVR5_EL1")
        XCTAssertEqual(SystemRegisterAction(access(2, 0, 0, 3, 7, read: true)), .debugRegister(DebugRegister(kind: .watchpointControl, index: 3)), "DBGWCR3_EL1")
        XCTAssertEqual(SystemRegisterAction(access(2, 0, 1, 3, 4, read: false)), .readAsZeroWriteIgnored, "OSDLR_EL1")
        XCTAssertEqual(SystemRegisterAction(access(3, 3, 9, 14, 0, read: false)), .pmu(.userEnable), "PMUSERENR_EL0")
        XCTAssertEqual(SystemRegisterAction(access(3, 3, 9, 12, 0, read: true)), .pmu(.control), "PMCR_EL0")
        XCTAssertEqual(SystemRegisterAction(access(3, 3, 14, 9, 2, read: true)), .pmu(.eventCounter(10)), "PMEVCNTR10_EL0")
        XCTAssertEqual(SystemRegisterAction(access(3, 3, 14, 15, 6, read: false)), .pmu(.eventType(30)), "PMEVTYPER30_EL0")
        XCTAssertEqual(SystemRegisterAction(access(3, 3, 14, 15, 7, read: false)), .pmu(.cycleFilter), "PMCCFILTR_EL0")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 9, 14, 1, read: true)), .pmu(.interruptEnableSet), "PMINTENSET_EL1")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 0, 5, 0, read: true)), .idRegister(crm: 5, op2: 0), "ID_AA64DFR0_EL1")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 12, 11, 5, read: false)), .generateSGI)
        XCTAssertEqual(SystemRegisterAction(access(3, 3, 14, 2, 1, read: true)), .physicalTimer(.control))
        XCTAssertEqual(SystemRegisterAction(access(1, 0, 7, 14, 2, read: false)), .cacheSetWay, "DC CISW")
        XCTAssertEqual(SystemRegisterAction(access(3, 4, 1, 1, 0, read: true)), .undefined, "HCR_EL2 from EL1")
    }

    func test_id_registers_hide_unvirtualised_features() {
        // ID_AA64DFR0_EL1 of a Cortex-A57 (PMUv3, 6 breakpoints, 4 watchpoints, debug v8).
        let dfr0: UInt64 = 0x1030_5106
        XCTAssertEqual(IDRegisters.sanitize(crm: 5, op2: 0, dfr0) >> 8 & 0xF, 1, "PMUVer kept: PMUv3 per vCPU")
        XCTAssertEqual(PMURegister.sanitizeFilter(1 << 31 | 1 << 27 | 1 << 26 | 0x11), 1 << 31 | 0x11, "EL2 and EL3 never counted")
        XCTAssertEqual(IDRegisters.sanitize(crm: 5, op2: 0, dfr0) >> 12 & 0xF, 5, "breakpoints kept")
        XCTAssertEqual(IDRegisters.sanitize(crm: 4, op2: 0, 0x1_0000_0000_0011) >> 32 & 0xF, 0, "SVE hidden")
        XCTAssertEqual(IDRegisters.sanitize(crm: 6, op2: 1, 0xFFFF_FFFF) & 0xFF00_0FF0, 0, "pointer authentication hidden")
        XCTAssertEqual(IDRegisters.sanitize(crm: 6, op2: 1, 0xFFFF_FFFF) & 0x00FF_F000, 0x00FF_F000, "the rest kept")
        XCTAssertEqual(IDRegisters.sanitize(crm: 7, op2: 0, 0x1122), 0x1122, "MMFR0 untouched")
    }

    func test_debug_registers_are_the_implemented_ones_and_match_only_the_guest() {
        let dfr0: UInt64 = 0x1030_5106   // Cortex-A57: 6 breakpoints, 4 watchpoints
        XCTAssertEqual(DebugRegister.breakpoints(dfr0: dfr0), 6)
        XCTAssertEqual(DebugRegister.watchpoints(dfr0: dfr0), 4)
        XCTAssertTrue(DebugRegister(kind: .breakpointControl, index: 5).isImplemented(dfr0: dfr0))
        XCTAssertFalse(DebugRegister(kind: .breakpointValue, index: 6).isImplemented(dfr0: dfr0))
        XCTAssertFalse(DebugRegister(kind: .watchpointControl, index: 4).isImplemented(dfr0: dfr0))
        // A breakpoint at EL1 and EL0 (BAS 0b1111, PMC 0b11, E) is kept; HMC and VMID matching go.
        XCTAssertEqual(DebugRegister(kind: .breakpointControl, index: 0).sanitize(0x1E7), 0x1E7)
        XCTAssertEqual(DebugRegister(kind: .breakpointControl, index: 0).sanitize(0x1E7 | 1 << 13 | 0x8 << 20), 0x1E7)
        // A store watchpoint on 8 bytes (BAS 0xFF, LSC 0b10, PAC 0b11, E) is kept; HMC goes.
        XCTAssertEqual(DebugRegister(kind: .watchpointControl, index: 1).sanitize(0x1FF7 | 1 << 13), 0x1FF7)
    }

    func test_exception_class_codes_round_trip() {
        for code in UInt8(0)..<64 { XCTAssertEqual(ExceptionClass(code: code).code, code) }
    }

    func test_guest_hcr_traps_what_the_hypervisor_handles() {
        let h = HCR.guest
        XCTAssertTrue(h.vm && h.imo && h.fmo && h.amo && h.twi && h.twe && h.tsc && h.rw)
        XCTAssertFalse(h.e2h)
    }
}
