import CArch
import SwiftvisorCore

/// The EL2 physical timer (CNTHP, Arm ARM D11.2): ends a vCPU's time slice so that a guest
/// that never traps cannot keep the CPU, and wakes software timers (vCPUs waiting in WFI).
enum PreemptionTimer {
    /// Time slice: 5 ms of counter time.
    static func sliceTicks() -> UInt64 { read_cntfrq_el0() / 200 }

    /// Fires when the physical counter reaches `deadline`.
    static func arm(at deadline: UInt64) {
        write_cnthp_cval_el2(deadline)
        write_cnthp_ctl_el2(TimerControl.armed.rawValue)
    }

    /// Stops it (nothing to wait for, or it has just fired and is being handled).
    static func disarm() { write_cnthp_ctl_el2(TimerControl.disabled.rawValue) }
}
