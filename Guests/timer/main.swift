import CGuest
import SwiftvisorCore

/// Counts virtual-timer interrupts at 100 Hz for 2 s of virtual counter time, sleeping in WFI
/// between them, then the (emulated) EL1 physical timer the same way for 1 s. Deadlines are
/// absolute (CVAL += period), so handler latency does not accumulate.
/// Exit code 0 when both counts are within 2 of the expected number.
nonisolated(unsafe) var ticks = 0
nonisolated(unsafe) var period: UInt64 = 0
nonisolated(unsafe) var deadline: UInt64 = 0

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Interrupts.start(cpu: 0)
    period = read_cntfrq() / 100
    var failures: UInt32 = 0
    for (name, intid, seconds) in [("virtual", InterruptID.virtualTimer, UInt64(2)), ("physical", InterruptID.physicalTimer, UInt64(1))] {
        ticks = 0
        let virtual = intid == InterruptID.virtualTimer
        Interrupts.enable(intid, cpu: 0)
        Interrupts.handler = { id in
            guard id == intid else { return }
            ticks += 1
            // Next absolute deadline, and unmask, as Linux's arch timer driver does.
            deadline += period
            if virtual { write_cntv_cval_el0(deadline); write_cntv_ctl_el0(1) } else { write_cntp_cval_el0(deadline); write_cntp_ctl_el0(1) }
        }
        let start = virtual ? read_cntvct() : read_cntpct()
        deadline = start + period
        if virtual { write_cntv_cval_el0(deadline); write_cntv_ctl_el0(1) } else { write_cntp_cval_el0(deadline); write_cntp_ctl_el0(1) }
        irq_enable()
        Guest.waitUntil { (virtual ? read_cntvct() : read_cntpct()) - start >= seconds * read_cntfrq() }
        irq_disable()
        if virtual { write_cntv_ctl_el0(0) } else { write_cntp_ctl_el0(0) }
        let expected = Int(seconds) * 100
        let ok = abs(ticks - expected) <= 2
        if !ok { failures += 1 }
        Guest.print("\(name) timer: \(ticks) ticks in \(seconds) s at 100 Hz (expected \(expected) +- 2): \(ok ? "ok" : "FAIL")")
    }
    Guest.shutdown(.poweroff, exitCode: failures)
}
