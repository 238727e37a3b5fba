import CArch
import SwiftvisorCore

/// The EL2 regime of this boot, the same on every core (docs/architecture.md, "VHE"): chosen
/// on the boot core before its MMU is on, then fixed. Everything that differs between E2H = 0
/// and E2H = 1 reads it here (register layouts in `EL2Regime`) or in arch.h (`el2_vhe`, which
/// picks the guest-register encodings); nothing on the hypercall path depends on it.
enum EL2Mode {
    nonisolated(unsafe) static var regime: EL2Regime = .el2
    nonisolated(unsafe) static var reason: EL2Regime.Reason?

    /// Chooses the regime from the ID registers and `swiftvisor.vhe=1`, and enters it:
    /// HCR_EL2.E2H first (it decides how TCR_EL2 and SCTLR_EL2 are read when the MMU goes on),
    /// then the flag the guest-register accessors read.
    static func enter(processor: Processor, requested: Bool) {
        var (regime, reason) = EL2Regime.choose(hasVHE: processor.hasVHE, mmfr4: processor.mmfr4, requested: requested)
        setE2H(regime)
        // A CPU that keeps E2H set although its ID registers do not say so (ID_AA64MMFR4_EL1
        // is newer than the first such cores): believe the register.
        if regime == .el2 && HCR(rawValue: read_hcr_el2()).e2h {
            regime = .el2And0; reason = .e2hIsRES1
        }
        self.regime = regime
        self.reason = reason
        el2_vhe = regime == .el2And0 ? 1 : 0
    }

    /// Only E2H, before anything else of HCR_EL2 (`configureEL2` writes the rest).
    static func setE2H(_ regime: EL2Regime) {
        var h = HCR()
        h.e2h = regime == .el2And0
        write_hcr_el2(h.rawValue)
        isb()
    }

    /// The banner's words (the host tool reads "VHE present, not used" and "VHE not present"
    /// as E2H = 0, any other "VHE present" as E2H = 1).
    static func describe(hasVHE: Bool) {
        switch (regime, reason) {
        case (.el2, _):
            Console.write(hasVHE ? "VHE present, not used (nVHE mode, E2H=0, as Xen)" : "VHE not present (nVHE mode, E2H=0)")
        case (.el2And0, .e2hIsRES1?):
            Console.write("VHE present, used (VHE mode, E2H=1: this CPU cannot clear E2H)")
        case (.el2And0, _):
            Console.write("VHE present, used (VHE mode, E2H=1, as asked by swiftvisor.vhe=1)")
        }
    }
}
