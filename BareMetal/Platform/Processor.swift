import CArch
import SwiftvisorCore

/// What this physical CPU is, from its ID registers.
struct Processor {
    /// MIDR_EL1 (Arm ARM D19.2.100).
    let midr = read_midr_el1()
    /// ID_AA64MMFR1_EL1.VH, bits 11:8: Virtualization Host Extensions present.
    let hasVHE = (read_id_aa64mmfr1_el1() >> 8) & 0xF != 0
    /// ID_AA64MMFR4_EL1 (S3_0_C0_C7_4; reads as zero where it is not implemented): its E2H0
    /// field says whether HCR_EL2.E2H can be 0 (`EL2Regime.e2hIsRES1`).
    let mmfr4 = read_id_register(7, 4)
    /// ID_AA64MMFR0_EL1.PARange, bits 3:0.
    let physicalAddressRange = read_id_aa64mmfr0_el1() & 0xF

    /// PARange/PS encoding to bits (Arm ARM D19.2.64).
    static func addressBits(_ encoding: UInt64) -> UInt64 {
        switch encoding { case 0: return 32; case 1: return 36; case 2: return 40; case 3: return 42
                          case 4: return 44; case 5: return 48; default: return 52 }
    }

    /// The PS field used for EL2 stage-1 and stage-2 output: at most 48 bits (4 KiB granule).
    var outputSizeEncoding: UInt64 { min(physicalAddressRange, 5) }
    var physicalAddressBits: UInt64 { Self.addressBits(physicalAddressRange) }
    /// ID_AA64MMFR1_EL1.PAN, bits 23:20: Privileged Access Never (FEAT_PAN) present, so taking
    /// an exception may set PSTATE.PAN (`InjectedException`).
    static var hasPAN: Bool { (read_id_aa64mmfr1_el1() >> 20) & 0xF != 0 }
    /// ID_AA64PFR0_EL1.DIT, bits 51:48 (FEAT_DIT): exception entry keeps PSTATE.DIT.
    static var hasDIT: Bool { (read_id_aa64pfr0_el1() >> 48) & 0xF != 0 }
    /// ID_AA64PFR1_EL1.SSBS, bits 7:4 (FEAT_SSBS): exception entry sets PSTATE.SSBS from SCTLR_ELx.DSSBS.
    static var hasSSBS: Bool { (read_id_register(4, 1) >> 4) & 0xF != 0 }
    /// ID_AA64ISAR2_EL1.WFxT, bits 3:0 (FEAT_WFxT): WFIT and WFET exist.
    static var hasWFxT: Bool { read_id_register(6, 2) & 0xF != 0 }
    /// The optional traps this CPU has the controls for (TLOR, TERR, TPMS, TTRF).
    static var featureTraps: FeatureTraps {
        FeatureTraps(pfr0: read_id_aa64pfr0_el1(), mmfr1: read_id_aa64mmfr1_el1(), dfr0: read_id_register(5, 0))
    }
    /// Stage-2 input size (VTCR_EL2.T0SZ = 25).
    static let ipaBits: UInt64 = 39
}
