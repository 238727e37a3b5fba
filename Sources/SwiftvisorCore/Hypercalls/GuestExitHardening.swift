/// What a core does on every exit from a guest to EL2 against Spectre-v2 (branch target
/// injection, issue 11 §2), chosen once at boot. On the cores `SpectreMitigations` finds
/// affected (Cortex-A57, A72, A73, A75 without CSV2), Xen (the hardened vectors of
/// arch/arm/arm64/bpi.S) and KVM (__bp_harden_hyp_vecs) call the firmware's
/// SMCCC_ARCH_WORKAROUND_1 on every exit, before the hypervisor runs anything a guest could
/// have trained the predictor to steer, when the firmware implements it (SMCCC 1.1,
/// SMCCC_ARCH_FEATURES(WORKAROUND_1) = 0; DEN0028 7.5). Elsewhere the exit path stays as it
/// is: no call, no test of a flag (the VM-switch invalidation of `BranchPredictorHardening`
/// remains either way).
public enum GuestExitHardening: Equatable {
    /// Nothing on the exit path.
    case none
    /// SMCCC_ARCH_WORKAROUND_1 through SMC at the start of every exit from a guest.
    case firmwareWorkaround1

    /// The choice for a core with `mitigations`, whose firmware is reached through `conduit`.
    /// Only SMC reaches firmware below EL2 (an HVC from EL2 would trap to EL2 itself).
    public init(_ mitigations: SpectreMitigations, conduit: HostPlatform.PSCIConduit?) {
        if mitigations.branchTarget == .mitigated && mitigations.firmwareWorkaround1 && conduit == .smc {
            self = .firmwareWorkaround1
        } else {
            self = .none
        }
    }

    /// The boot log's line saying what was chosen, and why.
    public static func bootLine(_ choice: GuestExitHardening, _ mitigations: SpectreMitigations) -> StaticString {
        switch (choice, mitigations.branchTarget) {
        case (.firmwareWorkaround1, _):
            return "Spectre-v2: SMCCC_ARCH_WORKAROUND_1 on every guest exit (affected core, firmware implements it)\n"
        case (.none, .unaffected):
            return "Spectre-v2: core not affected; nothing on guest exit\n"
        case (.none, .mitigated):
            return "Spectre-v2: affected core, no firmware SMCCC_ARCH_WORKAROUND_1; nothing on guest exit, IC IALLU on VM switch (invalidates the branch predictor only if EL3 enabled it)\n"
        case (.none, .vulnerable):
            return "Spectre-v2: core not known to be affected, no CSV2; nothing on guest exit\n"
        }
    }
}
