/// What the physical CPU needs against the speculation attacks SMCCC 1.1's Arm architecture
/// calls address (DEN0028 7.5-7.7), and so what SMCCC_ARCH_FEATURES tells a guest about
/// SMCCC_ARCH_WORKAROUND_1 (Spectre-v2, branch target injection), _2 (Spectre-v4, speculative
/// store bypass) and _3 (Spectre-BHB, branch history injection). The answers are KVM's
/// (arch/arm64/kvm/hypercalls.c) for the same CPU state; like Xen (cpuerrata.c), a core the
/// errata lists name is "mitigated" whether or not the firmware has its own call.
public struct SpectreMitigations: Equatable {
    public enum State: Equatable {
        /// The CPU does not speculate this way: the workaround is not required.
        case unaffected
        /// Affected, and swiftvisor invalidates for the guest (on the call and on VM switch).
        case mitigated
        /// Unknown or affected without a mitigation swiftvisor can offer.
        case vulnerable
    }

    public var branchTarget: State
    public var storeBypass: State
    public var branchHistory: State
    /// The firmware (EL3) answers SMCCC_ARCH_FEATURES(WORKAROUND_1) with 0: its own call
    /// invalidates the branch predictor (Arm's TF-A on A57/A72 sets CPUACTLR_EL1 so that it can).
    public var firmwareWorkaround1: Bool
    /// The same for SMCCC_ARCH_WORKAROUND_3.
    public var firmwareWorkaround3: Bool

    /// MIDR_EL1 (Arm ARM D19.2.100): Implementer 31:24, PartNum 15:4.
    public static func armPart(midr: UInt64) -> UInt64? { bits(midr, 31, 24) == 0x41 ? bits(midr, 15, 4) : nil }
    static let cortexA35: UInt64 = 0xD04, cortexA53: UInt64 = 0xD03, cortexA55: UInt64 = 0xD05
    static let cortexA57: UInt64 = 0xD07, cortexA72: UInt64 = 0xD08, cortexA73: UInt64 = 0xD09, cortexA75: UInt64 = 0xD0A

    /// Branch history loop iterations that overwrite the history on cores Linux's
    /// spectre_bhb_loop_affected() names (8 on Cortex-A57 and A72), 0 where it is not the remedy.
    public var historyLoopIterations: UInt64

    public init(midr: UInt64, pfr0: UInt64, mmfr1: UInt64, firmwareWorkaround1: Bool, firmwareWorkaround3: Bool) {
        self.firmwareWorkaround1 = firmwareWorkaround1
        self.firmwareWorkaround3 = firmwareWorkaround3
        let part = Self.armPart(midr: midr)
        let inOrder = part == Self.cortexA35 || part == Self.cortexA53 || part == Self.cortexA55
        // ID_AA64PFR0_EL1.CSV2, bits 59:56: branch targets are not shared between contexts.
        let csv2 = bits(pfr0, 59, 56)
        let bpAffected = part == Self.cortexA57 || part == Self.cortexA72 || part == Self.cortexA73 || part == Self.cortexA75
        branchTarget = inOrder || csv2 != 0 ? .unaffected : (bpAffected ? .mitigated : .vulnerable)
        // ID_AA64PFR0_EL1.CSV2 == 3 (FEAT_CSV2_3) or ID_AA64MMFR1_EL1.ECBHB (bits 63:60): no BHB leak.
        let loopCores = part == Self.cortexA57 || part == Self.cortexA72
        historyLoopIterations = loopCores ? 8 : 0
        if inOrder || csv2 == 3 || bits(mmfr1, 63, 60) != 0 {
            branchHistory = .unaffected
        } else {
            branchHistory = loopCores || firmwareWorkaround3 ? .mitigated : .vulnerable
        }
        // Store bypass: only the in-order cores are known safe (no dynamic mitigation is
        // offered; a guest with FEAT_SSBS uses PSTATE.SSBS itself).
        storeBypass = inOrder ? .unaffected : .vulnerable
    }

    /// Invalidate the branch predictor when a core switches from one VM to another.
    public var invalidatesOnVMSwitch: Bool { branchTarget == .mitigated || branchHistory == .mitigated }

    /// SMCCC_RET_NOT_REQUIRED (DEN0028 7.6.2) and SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED (7.5.2).
    public static let notRequired = UInt64(bitPattern: -2), unaffectedReturn: UInt64 = 1

    /// SMCCC_ARCH_FEATURES(`functionID`) for the three workarounds; nil for any other ID.
    public func archFeatures(of functionID: UInt32) -> UInt64? {
        let success = SMCCCCall.Status.success.returnValue, notSupported = SMCCCCall.Status.notSupported.returnValue
        switch functionID {
        case SMCCCCall.FunctionID.archWorkaround1.rawValue:
            switch branchTarget { case .unaffected: return Self.unaffectedReturn; case .mitigated: return success; case .vulnerable: return notSupported }
        case SMCCCCall.FunctionID.archWorkaround2.rawValue:
            // No dynamic mitigation is offered; KVM says NOT_REQUIRED only where unaffected.
            return storeBypass == .unaffected ? Self.notRequired : notSupported
        case SMCCCCall.FunctionID.archWorkaround3.rawValue:
            switch branchHistory { case .unaffected: return Self.unaffectedReturn; case .mitigated: return success; case .vulnerable: return notSupported }
        default:
            return nil
        }
    }
}
