import CArch
import SwiftvisorCore

/// Branch predictor isolation between guests on cores Spectre-v2 and Spectre-BHB affect
/// (Cortex-A57/A72): what `SpectreMitigations` decided at boot, done on a guest's
/// SMCCC_ARCH_WORKAROUND_1/_3, when a core switches from one VM to another, and (where
/// `GuestExitHardening` chooses it) on every exit from a guest.
enum BranchPredictorHardening {
    /// Set once at boot (`detect`), read-only afterwards.
    nonisolated(unsafe) static var mitigations = SpectreMitigations(midr: 0, pfr0: 0, mmfr1: 0,
                                                                    firmwareWorkaround1: false, firmwareWorkaround3: false)
    nonisolated(unsafe) private static var conduit: HostPlatform.PSCIConduit?
    /// Set once at boot (`detect`): what every guest exit does first.
    nonisolated(unsafe) static var exitHardening = GuestExitHardening.none

    /// The CPU from its ID registers; the firmware's own workarounds where it has SMCCC 1.1
    /// (found as DEN0028 7.2.1 says: PSCI_FEATURES(SMCCC_VERSION), then SMCCC_VERSION, then
    /// SMCCC_ARCH_FEATURES). No firmware calls without a PSCI conduit.
    static func detect(processor: Processor, conduit: HostPlatform.PSCIConduit?) {
        Self.conduit = conduit
        var fw1 = false, fw3 = false
        if conduit != nil,
           Firmware.call(.psciVersion, 0, 0, 0, conduit: conduit) >= 0x1_0000,
           Firmware.call(.psciFeatures, UInt64(SMCCCCall.FunctionID.smcccVersion.rawValue), 0, 0, conduit: conduit) == 0,
           Firmware.call(.smcccVersion, 0, 0, 0, conduit: conduit) >= 0x1_0001 {
            fw1 = Firmware.call(.smcccArchFeatures, UInt64(SMCCCCall.FunctionID.archWorkaround1.rawValue), 0, 0, conduit: conduit) == 0
            fw3 = Firmware.call(.smcccArchFeatures, UInt64(SMCCCCall.FunctionID.archWorkaround3.rawValue), 0, 0, conduit: conduit) == 0
        }
        mitigations = SpectreMitigations(midr: processor.midr, pfr0: read_id_aa64pfr0_el1(), mmfr1: read_id_aa64mmfr1_el1(),
                                         firmwareWorkaround1: fw1, firmwareWorkaround3: fw3)
        exitHardening = GuestExitHardening(mitigations, conduit: conduit)
        if exitHardening == .firmwareWorkaround1 {
            // The secondary cores copy this VBAR_EL2 (startSecondaryCores); no exit is taken
            // from a guest before it is set.
            write_vbar_el2(el2_vectors_workaround_1_address())
            isb()
        }
        Console.log(GuestExitHardening.bootLine(exitHardening, mitigations))
    }

    /// SMCCC_ARCH_WORKAROUND_1 and _3, and a switch between VMs: whatever this core needs.
    @inline(never)
    static func invalidate() {
        let m = mitigations
        if m.branchTarget == .mitigated {
            if m.firmwareWorkaround1 { _ = Firmware.call(.archWorkaround1, 0, 0, 0, conduit: conduit) } else { branch_predictor_invalidate_local() }
        }
        if m.branchHistory == .mitigated {
            if m.firmwareWorkaround3 { _ = Firmware.call(.archWorkaround3, 0, 0, 0, conduit: conduit) }
            else if m.historyLoopIterations > 0 { branch_history_clear(m.historyLoopIterations) }
        }
    }

    /// `core` is about to run a vCPU of VM `vmid` after one of another VM (Hypervisor.load):
    /// the previous guest's branch training must not steer this one.
    @inline(never)
    static func switchedVM(to vmid: UInt16, on core: PhysicalCPU) {
        core.lastVMID = vmid
        if mitigations.invalidatesOnVMSwitch { invalidate() }
    }
}
