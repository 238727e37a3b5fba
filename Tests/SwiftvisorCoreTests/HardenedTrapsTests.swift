import XCTest
@testable import SwiftvisorCore

/// Issue 11 §2: the traps a hostile guest meets and the answers an honest one gets.
final class HardenedTrapsTests: XCTestCase {
    func access(_ op0: UInt8, _ op1: UInt8, _ crn: UInt8, _ crm: UInt8, _ op2: UInt8, read: Bool) -> SystemRegisterAccess {
        SystemRegisterAccess(esr: ESR(exceptionClass: .systemRegister64,
                                      iss: UInt64(op0) << 20 | UInt64(op2) << 17 | UInt64(op1) << 14 | UInt64(crn) << 10 | UInt64(crm) << 1 | (read ? 1 : 0)))
    }

    // 1. IMPLEMENTATION DEFINED registers.
    func test_guest_hcr_traps_implementation_defined_registers() {
        XCTAssertTrue(HCR.guest.tidcp)
        XCTAssertEqual(HCR.guest.rawValue & 1 << 20, 1 << 20, "TIDCP is bit 20")
        XCTAssertTrue(EL2Regime.el2And0.hcr.tidcp, "also with E2H = 1")
    }

    func test_implementation_defined_registers_are_undefined() {
        // Cortex-A57/A72 (TRM 4.3): L2CTLR_EL1 S3_1_C11_C0_2, L2ECTLR_EL1 S3_1_C11_C0_3,
        // CPUACTLR_EL1 S3_1_C15_C2_0, CPUECTLR_EL1 S3_1_C15_C2_1, CBAR_EL1 S3_1_C15_C3_0.
        for (op1, crn, crm, op2) in [(1, 11, 0, 2), (1, 11, 0, 3), (1, 15, 2, 0), (1, 15, 2, 1), (1, 15, 3, 0), (0, 11, 0, 0), (7, 15, 15, 7)] as [(UInt8, UInt8, UInt8, UInt8)] {
            XCTAssertEqual(SystemRegisterAction(access(3, op1, crn, crm, op2, read: true)), .undefined, "S3_\(op1)_C\(crn)_C\(crm)_\(op2) read")
            XCTAssertEqual(SystemRegisterAction(access(3, op1, crn, crm, op2, read: false)), .undefined, "S3_\(op1)_C\(crn)_C\(crm)_\(op2) write")
        }
    }

    // 4. The remaining traps.
    func test_lor_and_ras_traps_only_where_the_cpu_has_them() {
        let a57 = FeatureTraps(pfr0: 0x1100_0000_0000_2222, mmfr1: 0, dfr0: 0x1030_5106)
        XCTAssertEqual(a57.applied(to: HCR.guest), HCR.guest, "ARMv8.0: TLOR and TERR are RES0")
        XCTAssertEqual(a57.applied(to: MDCR()), MDCR(), "no SPE, no trace filter: TPMS and TTRF are RES0")
        // LO = 1, RAS = 1, PMSVer = 1, TraceFilt = 1.
        let max = FeatureTraps(pfr0: 1 << 28, mmfr1: 1 << 16, dfr0: 1 << 32 | 1 << 40)
        let h = max.applied(to: HCR.guest)
        XCTAssertTrue(h.tlor); XCTAssertTrue(h.terr)
        XCTAssertEqual(h.rawValue, HCR.guest.rawValue | 1 << 35 | 1 << 36)
        let m = max.applied(to: MDCR.guest(pmcr: 6 << 11))
        XCTAssertEqual(m.rawValue, MDCR.guest(pmcr: 6 << 11).rawValue | 1 << 14 | 1 << 19, "only TPMS and TTRF added")
    }

    func test_lor_registers_undefined_and_hidden_ras_records_read_as_zero() {
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 10, 4, 7, read: true)), .undefined, "LORID_EL1")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 10, 4, 0, read: false)), .undefined, "LORSA_EL1")
        XCTAssertEqual(IDRegisters.sanitize(crm: 7, op2: 1, 0x1_0000 | 0x10_0000), 0x10_0000, "ID_AA64MMFR1_EL1.LO hidden, PAN kept")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 5, 3, 0, read: true)), .readAsZeroWriteIgnored, "ERRIDR_EL1: no records")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 5, 4, 2, read: false)), .readAsZeroWriteIgnored, "ERXSTATUS_EL1")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 5, 5, 0, read: true)), .readAsZeroWriteIgnored, "ERXMISC0_EL1")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 1, 2, 1, read: true)), .undefined, "TRFCR_EL1 (TTRF)")
        XCTAssertEqual(SystemRegisterAction(access(3, 0, 9, 9, 0, read: true)), .undefined, "PMSCR_EL1 (TPMS)")
    }

    func test_guest_cptr_traps_trace_registers_in_both_layouts() {
        XCTAssertTrue(CPTR.guest(.el2).tta)
        XCTAssertTrue(CPTR.guest(.el2And0).ttaE2H)
    }

    // 2. SMCCC 1.1.
    static let cortexA57: UInt64 = 0x411F_D070, cortexA72: UInt64 = 0x410F_D083, cortexA53: UInt64 = 0x410F_D034
    static let qemuMax: UInt64 = 0x000F_0510

    func test_arch_features_on_cortex_a57_as_xen_and_kvm_answer() {
        let m = SpectreMitigations(midr: Self.cortexA57, pfr0: 0x2222, mmfr1: 0, firmwareWorkaround1: false, firmwareWorkaround3: false)
        XCTAssertEqual(m.archFeatures(of: 0x8000_8000), 0, "WORKAROUND_1: required and implemented")
        XCTAssertEqual(m.archFeatures(of: 0x8000_7FFF), SMCCCCall.Status.notSupported.returnValue, "WORKAROUND_2: not offered")
        XCTAssertEqual(m.archFeatures(of: 0x8000_3FFF), 0, "WORKAROUND_3: the branch history loop")
        XCTAssertEqual(m.historyLoopIterations, 8)
        XCTAssertTrue(m.invalidatesOnVMSwitch)
        XCTAssertNil(m.archFeatures(of: 0x8000_0001))
        let a72 = SpectreMitigations(midr: Self.cortexA72, pfr0: 0, mmfr1: 0, firmwareWorkaround1: true, firmwareWorkaround3: false)
        XCTAssertEqual(a72.branchTarget, .mitigated); XCTAssertTrue(a72.firmwareWorkaround1)
    }

    func test_arch_features_on_unaffected_cores() {
        let a53 = SpectreMitigations(midr: Self.cortexA53, pfr0: 0, mmfr1: 0, firmwareWorkaround1: false, firmwareWorkaround3: false)
        XCTAssertEqual(a53.archFeatures(of: 0x8000_8000), 1, "SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED")
        XCTAssertEqual(a53.archFeatures(of: 0x8000_7FFF), UInt64(bitPattern: -2), "SMCCC_RET_NOT_REQUIRED")
        XCTAssertEqual(a53.archFeatures(of: 0x8000_3FFF), 1)
        XCTAssertFalse(a53.invalidatesOnVMSwitch, "nothing to do on a switch between VMs")
        // CSV2 = 3 (FEAT_CSV2_3): neither branch targets nor history leak.
        let csv2 = SpectreMitigations(midr: Self.qemuMax, pfr0: 3 << 56, mmfr1: 0, firmwareWorkaround1: false, firmwareWorkaround3: false)
        XCTAssertEqual(csv2.archFeatures(of: 0x8000_8000), 1); XCTAssertEqual(csv2.archFeatures(of: 0x8000_3FFF), 1)
        // An unknown core without CSV2: vulnerable, as KVM says.
        let unknown = SpectreMitigations(midr: Self.qemuMax, pfr0: 0, mmfr1: 0, firmwareWorkaround1: false, firmwareWorkaround3: false)
        XCTAssertEqual(unknown.archFeatures(of: 0x8000_8000), SMCCCCall.Status.notSupported.returnValue)
        XCTAssertFalse(unknown.invalidatesOnVMSwitch)
    }

    func test_smccc_1_1_calls_decode_and_psci_features_of_smccc_version_succeeds() {
        XCTAssertEqual(SMCCCCall(x0: 0x8000_8000, x1: 0, x2: 0, x3: 0), .archWorkaround1)
        XCTAssertEqual(SMCCCCall(x0: 0x8000_7FFF, x1: 1, x2: 0, x3: 0), .archWorkaround2)
        XCTAssertEqual(SMCCCCall(x0: 0x8000_3FFF, x1: 0, x2: 0, x3: 0), .archWorkaround3)
        XCTAssertEqual(SMCCCCall.psciFeatures(of: 0x8000_0000), 0, "PSCI_FEATURES(SMCCC_VERSION) succeeds (SMCCC 1.1)")
        XCTAssertEqual(SMCCCCall.psciFeatures(of: 0x8000_8000), SMCCCCall.Status.notSupported.returnValue)
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0x8000_0000, x1: 0), 0x1_0001, "SMCCC_VERSION 1.1")
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0x8400_000A, x1: 0x8000_0000), 0)
        XCTAssertNil(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0x8000_0001, x1: 0x8000_8000), "the CPU's answer, on the full path")
        XCTAssertNil(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0x8000_8000, x1: 0), "WORKAROUND_1 invalidates")
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0x8000_0001, x1: 0x8000_0001), 0)
    }

    // 8. CPU_SUSPEND: advertised and implemented.
    func test_cpu_suspend_is_implemented_as_the_device_tree_says() {
        XCTAssertEqual(SMCCCCall(x0: 0xC400_0001, x1: 0x1_0000, x2: 0x4008_0000, x3: 7),
                       .cpuSuspend(powerState: 0x1_0000, entry: 0x4008_0000, context: 7))
        XCTAssertEqual(SMCCCCall(x0: 0x8400_0001, x1: 0xFFFF_FFFF_0000_0001, x2: 0, x3: 0), .cpuSuspend(powerState: 1, entry: 0, context: 0))
        XCTAssertEqual(SMCCCCall.psciFeatures(of: 0xC400_0001), 0, "original power_state format, platform-coordinated")
        XCTAssertNil(StatelessHypercall.answer(immediate: 0, x16: 0, x0: 0xC400_0001, x1: 0))
    }

    // 3. Data aborts.
    func dataAbort(_ iss: UInt64) -> DataAbort { DataAbort(esr: ESR(exceptionClass: .dataAbortLowerEL, iss: iss), far: 0, hpfar: 0) }

    func test_only_plain_translation_faults_on_devices_are_emulated() {
        // LDR w3 (ISV, SAS word, SRT 3), level-3 translation fault (DFSC 0b000111).
        XCTAssertEqual(dataAbort(0x1_83_0007).deviceHandling, .emulate)
        XCTAssertEqual(dataAbort(0x1_83_0004).deviceHandling, .emulate, "level 0")
        // DC CIVAC on the device: CM = 1, WnR = 1.
        XCTAssertEqual(dataAbort(1 << 8 | 1 << 6 | 0b000111).deviceHandling, .skipCacheMaintenance)
        // The guest's stage-1 tables in the device range: S1PTW = 1.
        XCTAssertEqual(dataAbort(1 << 7 | 0b000111).deviceHandling, .inject)
        XCTAssertEqual(dataAbort(1 << 8 | 1 << 7 | 0b000111).deviceHandling, .inject, "a walk fault of a CM instruction")
        // Permission (0b001111), access flag (0b001011), external abort (0b010000): injected.
        for dfsc: UInt64 in [0b001111, 0b001011, 0b010000, 0b100001] { XCTAssertEqual(dataAbort(0x1_83_0000 | dfsc).deviceHandling, .inject) }
    }

    // 5. Instruction length and exception entry.
    func test_instruction_length_follows_esr_il() {
        XCTAssertEqual(ESR(exceptionClass: .dataAbortLowerEL, il: true, iss: 0).instructionLength, 4)
        XCTAssertEqual(ESR(exceptionClass: .dataAbortLowerEL, il: false, iss: 0).instructionLength, 2, "16-bit T32 at AArch32 EL0")
        XCTAssertEqual(ESR(rawValue: 0xFFFF_FFFF).instructionLength, 4)
        XCTAssertEqual(ESR(rawValue: 0xFDFF_FFFF).instructionLength, 2)
    }

    func test_injection_from_aarch32_el0_uses_the_0x600_vector() {
        // AArch32 User mode (M = 0b10000), T32.
        let e = InjectedException(.undefinedInstruction, interrupted: SPSR(rawValue: 0b1_0000 | 1 << 5), guestSCTLR: SCTLR(rawValue: 0), hasPAN: true)
        XCTAssertEqual(e.vectorOffset, 0x600)
        XCTAssertTrue(e.handlerState.pan, "SPAN = 0: PAN set on entry")
        let abort = InjectedException(.dataAbort(write: false), interrupted: SPSR(rawValue: 0b1_0000), guestSCTLR: SCTLR(rawValue: 1 << 23), hasPAN: true)
        XCTAssertEqual(abort.syndrome.exceptionClass, .dataAbortLowerEL)
        XCTAssertFalse(abort.handlerState.pan, "SPAN = 1 and PAN clear before: stays clear")
    }

    func test_exception_entry_keeps_dit_and_sets_ssbs_from_dssbs() {
        var el1 = SPSR(rawValue: SPSR.Mode.el1h.rawValue | 1 << 24 | 1 << 12 | 0b11 << 10)   // DIT, SSBS, BTYPE
        var sctlr = SCTLR(rawValue: 0); sctlr.span = true
        var e = InjectedException(.undefinedInstruction, interrupted: el1, guestSCTLR: sctlr, hasPAN: true, hasDIT: true, hasSSBS: true)
        XCTAssertTrue(e.handlerState.dit, "DIT kept")
        XCTAssertFalse(e.handlerState.ssbs, "SSBS = SCTLR_EL1.DSSBS = 0")
        XCTAssertEqual(e.handlerState.rawValue & 0b11 << 10, 0, "BTYPE cleared")
        sctlr.dssbs = true; el1.setDIT(false)
        e = InjectedException(.undefinedInstruction, interrupted: el1, guestSCTLR: sctlr, hasPAN: true, hasDIT: true, hasSSBS: true)
        XCTAssertFalse(e.handlerState.dit); XCTAssertTrue(e.handlerState.ssbs)
        // AArch32 EL0's DIT is bit 21; the handler's (AArch64) bit 24.
        let aarch32 = InjectedException(.undefinedInstruction, interrupted: SPSR(rawValue: 0b1_0000 | 1 << 21), guestSCTLR: sctlr, hasPAN: false, hasDIT: true, hasSSBS: false)
        XCTAssertTrue(aarch32.handlerState.dit); XCTAssertEqual(aarch32.handlerState.rawValue & 1 << 21, 0)
        // Without the features, neither bit is touched.
        let plain = InjectedException(.undefinedInstruction, interrupted: el1, guestSCTLR: sctlr, hasPAN: false)
        XCTAssertEqual(plain.handlerState, SPSR(rawValue: SPSR.Mode.el1h.rawValue | 0b1111 << 6))
    }

    // 6. WFIT.
    func test_wfit_decodes_with_its_timeout_register() {
        // EC 0x01, IL, RN = 3, RV = 1, TI = 0b10.
        XCTAssertEqual(Trap(esr: ESR(rawValue: 0x0600_0000 | 1 << 25 | 3 << 5 | 0b110), far: 0, hpfar: 0), .waitForInterruptWithTimeout(register: 3))
        XCTAssertEqual(Trap(esr: ESR(rawValue: 0x0600_0000 | 1 << 25 | 0b010), far: 0, hpfar: 0), .waitForInterruptWithTimeout(register: nil),
                       "RV = 0 (QEMU 10.0): the register is unknown")
        XCTAssertEqual(Trap(esr: ESR(rawValue: 0x0600_0000 | 0b111), far: 0, hpfar: 0), .waitForEvent, "WFET")
        XCTAssertEqual(Trap(esr: ESR(rawValue: 0x0600_0000), far: 0, hpfar: 0), .waitForInterrupt)
    }

    // 7. GICD_IROUTER written as two words.
    func test_either_half_of_irouter_reroutes_and_kicks() {
        var gic = VirtualGIC(vcpuCount: 4)
        // GICD_IROUTER33 (SPI 33 = index 1): low word Aff0 = 2.
        var r = gic.distributorAccess(MMIOAccess(offset: 0x6108, width: 4, isWrite: true, value: 2))
        XCTAssertEqual(gic.distributorAccess(MMIOAccess(offset: 0x6108, width: 8, isWrite: false)).read, 2)
        XCTAssertFalse(r.effect.kick.isEmpty, "the low half kicks")
        r = gic.distributorAccess(MMIOAccess(offset: 0x610C, width: 4, isWrite: true, value: 0))
        XCTAssertFalse(r.effect.kick.isEmpty, "the high half kicks as the 64-bit write does")
        XCTAssertEqual(gic.distributorAccess(MMIOAccess(offset: 0x6108, width: 4, isWrite: false)).read, 2, "the high half keeps the low")
        r = gic.distributorAccess(MMIOAccess(offset: 0x6108, width: 8, isWrite: true, value: 3))
        XCTAssertEqual(gic.distributorAccess(MMIOAccess(offset: 0x6108, width: 4, isWrite: false)).read, 3)
    }
}
