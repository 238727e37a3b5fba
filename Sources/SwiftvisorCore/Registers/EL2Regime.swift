/// The translation regime the hypervisor itself runs in, chosen once at boot by HCR_EL2.E2H
/// (Arm ARM D5.1.1, "VHE"). It decides the layout of TCR_EL2, CPTR_EL2 and CNTHCTL_EL2, and
/// which instructions reach a guest's EL1 registers from EL2.
public enum EL2Regime: Equatable {
    /// E2H = 0, "nVHE": EL2's own single-range regime, as Xen and Bao run. EL1 register names
    /// at EL2 are the guest's EL1 registers.
    case el2
    /// E2H = 1 (TGE = 0 while guests run), "VHE": the EL2&0 regime. EL1 register names at EL2
    /// reach EL2's registers; the guest's are the `*_EL12` / `*_EL02` encodings.
    case el2And0

    /// Why E2H = 1 was chosen, for the banner.
    public enum Reason: Equatable {
        /// The CPU has no FEAT_E2H0: HCR_EL2.E2H is RES1.
        case e2hIsRES1
        /// `swiftvisor.vhe=1` on a CPU with VHE (`--vhe`).
        case requested
    }

    /// ID_AA64MMFR4_EL1.E2H0, bits 27:24 (signed): 0 = HCR_EL2.E2H may be 0; negative
    /// (0b1110 NI_NV1, 0b1111 NI) = FEAT_E2H0 not implemented, E2H is RES1.
    public static func e2hIsRES1(mmfr4: UInt64) -> Bool { bits(mmfr4, 27, 24) & 0b1000 != 0 }

    /// E2H = 1 when it cannot be 0, or when asked for on a CPU with VHE; E2H = 0 otherwise
    /// (also when asked for on a CPU without VHE: the request cannot be honoured).
    public static func choose(hasVHE: Bool, mmfr4: UInt64, requested: Bool) -> (EL2Regime, Reason?) {
        if hasVHE && e2hIsRES1(mmfr4: mmfr4) { return (.el2And0, .e2hIsRES1) }
        if hasVHE && requested { return (.el2And0, .requested) }
        return (.el2, nil)
    }

    /// HCR_EL2 while guests run: `HCR.guest`, with E2H in this regime (TGE stays 0, so EL1
    /// and EL0 are the guest's EL1&0 regime either way).
    public var hcr: HCR {
        var h = HCR.guest
        h.e2h = self == .el2And0
        return h
    }

    /// TCR_EL2 for the hypervisor's identity map: 48-bit VA from TTBR0_EL2, Write-Back
    /// Inner Shareable walks, 4 KiB granule, output size `ps` (ID_AA64MMFR0_EL1.PARange), in
    /// this regime's layout (`TCR`).
    public func tcr(outputSize ps: UInt64) -> TCR { TCR.hypervisor(self, outputSize: ps) }

    /// CPTR_EL2: FP/SIMD not trapped, SVE and SME trapped, in this regime's layout (`CPTR`).
    public var cptr: CPTR { CPTR.guest(self) }

    /// CNTHCTL_EL2: the guest may read the physical counter (EL1PCTEN) but its physical timer
    /// traps (EL1PCEN clear) until it is virtualised; the bits move with E2H (`CNTHCTL`).
    public var cnthctl: CNTHCTL { CNTHCTL.guest(self) }
}
