import CGuest
import SwiftvisorCore

/// Checks what kvm-unit-tests' arm/timer.c checks of the generic timers (Arm ARM D11.2.4), for
/// the virtual timer (PPI 27) and the EL1 physical timer (PPI 30): the interrupt is pending in
/// the GIC (GICR_ISPENDR0, or a GICv2's banked GICD_ISPENDR0) exactly while the timer is
/// enabled, unmasked and expired; CTL reads back as written (ISTATUS aside), also after the
/// interrupt fired; an unmasked timer interrupts, again after the handler masked it and the
/// guest unmasked it; CVAL reads back; TVAL sets CVAL relative to the counter and reads
/// negative after expiry. Prints "<timer> timer: ok <check>" or "... FAIL <check> (...)" per
/// check; the exit code is the number of failures.
struct Timer {
    let name: StaticString
    let intid: UInt32
    let virtual: Bool
    var counter: UInt64 { virtual ? read_cntvct() : read_cntpct() }
    var control: UInt64 { virtual ? read_cntv_ctl_el0() : read_cntp_ctl_el0() }
    func setControl(_ v: UInt64) { if virtual { write_cntv_ctl_el0(v) } else { write_cntp_ctl_el0(v) } }
    var compareValue: UInt64 { virtual ? read_cntv_cval_el0() : read_cntp_cval_el0() }
    func setCompareValue(_ v: UInt64) { if virtual { write_cntv_cval_el0(v) } else { write_cntp_cval_el0(v) } }
    /// TVAL as the signed 32-bit value it is.
    var timerValue: Int32 { Int32(truncatingIfNeeded: virtual ? read_cntv_tval_el0() : read_cntp_tval_el0()) }
    func setTimerValue(_ v: Int32) {
        let raw = UInt64(UInt32(bitPattern: v))
        if virtual { write_cntv_tval_el0(raw) } else { write_cntp_tval_el0(raw) }

    }
}

/// CTL bits: ENABLE (0), IMASK (1), ISTATUS (2).
let enable: UInt64 = 1, imask: UInt64 = 2, istatus: UInt64 = 4

nonisolated(unsafe) var failures: UInt32 = 0
nonisolated(unsafe) var interrupts = 0
nonisolated(unsafe) var controlInHandler: UInt64 = 0

func check(_ t: Timer, _ what: StaticString, _ ok: Bool, _ detail: String = "") {
    if ok {
        Guest.print("\(t.name) timer: ok \(what)")
    } else {
        failures += 1
        Guest.print("\(t.name) timer: FAIL \(what)\(detail.isEmpty ? "" : " (" + detail + ")")")
    }
}

/// The PPI's pending bit as the guest's GIC shows it (vCPU 0's private interrupts).
func pending(_ intid: UInt32) -> Bool {
    let ispendr0 = Interrupts.isGICv2 ? Interrupts.gicd + 0x200 : Interrupts.redistributor(cpu: 0) + 0x1_0200
    return Interrupts.register32(ispendr0).load() & (1 << intid) != 0
}

/// GICR_ICENABLER0 / GICD_ICENABLER0: the PPI disabled in the GIC (it can still be pending).
func disableInGIC(_ intid: UInt32) {
    let icenabler0 = Interrupts.isGICv2 ? Interrupts.gicd + 0x180 : Interrupts.redistributor(cpu: 0) + 0x1_0180
    Interrupts.register32(icenabler0).store(1 << intid)
}

/// Takes interrupts until `count` have arrived or 5 s of counter time passed.
func takeInterrupts(until count: Int, _ t: Timer) {
    let end = t.counter + 5 * read_cntfrq()
    irq_enable()
    while interrupts < count && t.counter < end {}
    irq_disable()
}

func checkTimer(_ t: Timer) {
    let tick = read_cntfrq() / 1000   // 1 ms
    disableInGIC(t.intid)
    t.setControl(0)
    t.setCompareValue(t.counter - 1)
    check(t, "not pending while disabled (expired compare value)", !pending(t.intid))

    t.setCompareValue(t.counter + 10_000 * tick)
    t.setControl(enable)
    check(t, "not pending before it expires", !pending(t.intid) && t.control & istatus == 0)

    t.setCompareValue(t.counter - 1)
    check(t, "ISTATUS set once expired", t.control & istatus != 0)
    check(t, "pending when enabled, expired and unmasked", pending(t.intid))
    let seen = t.control
    check(t, "CTL reads back as written (ENABLE, ISTATUS)", seen == enable | istatus, "read \(hex(seen))")

    t.setControl(enable | imask)
    check(t, "not pending after IMASK set", !pending(t.intid))
    check(t, "CTL with IMASK reads back (ENABLE, IMASK, ISTATUS)", t.control == enable | imask | istatus, "read \(hex(t.control))")
    t.setControl(enable)
    check(t, "pending again after IMASK cleared", pending(t.intid))
    t.setControl(0)
    check(t, "not pending after ENABLE cleared", !pending(t.intid))

    // Expired and unmasked for 20 ms with the interrupt disabled in the GIC: the hypervisor
    // may see it fire, but the guest's CTL must not change.
    t.setControl(enable)
    let until = t.counter + 20 * tick
    while t.counter < until {}
    check(t, "CTL unchanged while its interrupt fired unseen", t.control == enable | istatus, "read \(hex(t.control))")
    check(t, "still pending", pending(t.intid))
    t.setControl(0)

    // Delivery: the handler masks the timer, as kvm-unit-tests' does.
    interrupts = 0
    controlInHandler = 0
    Interrupts.handler = { id in
        guard id == t.intid else { return }
        interrupts += 1
        controlInHandler = t.control
        t.setControl(enable | imask)
    }
    Interrupts.enable(t.intid, cpu: 0)
    t.setTimerValue(Int32(10 * tick))
    t.setControl(enable)
    takeInterrupts(until: 1, t)
    check(t, "interrupt delivered when unmasked", interrupts == 1, "\(interrupts) interrupt(s)")
    check(t, "CTL in the handler as the guest wrote it (ENABLE, ISTATUS)", controlInHandler == enable | istatus, "read \(hex(controlInHandler))")
    check(t, "not pending after the handler masked it", !pending(t.intid))
    // Unmasked again, still expired: it interrupts again (the line is level-sensitive).
    t.setControl(enable)
    takeInterrupts(until: 2, t)
    check(t, "interrupt delivered again when unmasked again", interrupts == 2, "\(interrupts) interrupt(s)")
    t.setControl(0)
    // No interrupt while disabled.
    t.setCompareValue(t.counter - 1)
    let before = interrupts
    let quiet = t.counter + 20 * tick
    irq_enable()
    while t.counter < quiet {}
    irq_disable()
    check(t, "no interrupt while disabled", interrupts == before, "\(interrupts - before) interrupt(s)")
    disableInGIC(t.intid)

    // CVAL and TVAL.
    let cval = t.counter + 1_000 * tick
    t.setCompareValue(cval)
    check(t, "CVAL reads back", t.compareValue == cval)
    let start = t.counter
    t.setTimerValue(Int32(5 * tick))
    let set = t.compareValue, after = t.counter
    check(t, "TVAL sets CVAL to counter + TVAL", set >= start + 5 * tick && set <= after + 5 * tick,
          "CVAL \(hex(set)), counter \(hex(start))..\(hex(after))")
    // A second ahead, so that no descheduling of this guest (or of QEMU) makes it expire
    // before it is read back.
    t.setTimerValue(Int32(1_000 * tick))
    t.setControl(enable | imask)
    let remaining = t.timerValue
    check(t, "TVAL counts down from what was written", remaining > 0 && remaining <= Int32(1_000 * tick), "TVAL \(remaining)")
    t.setTimerValue(Int32(tick))
    let deadline = t.counter + 5 * read_cntfrq()
    while t.control & istatus == 0 && t.counter < deadline {}
    let late = t.timerValue
    check(t, "TVAL negative after expiry", late < 0, "TVAL \(late)")
    t.setControl(0)
}

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Interrupts.start(cpu: 0)
    checkTimer(Timer(name: "virtual", intid: InterruptID.virtualTimer, virtual: true))
    checkTimer(Timer(name: "physical", intid: InterruptID.physicalTimer, virtual: false))
    Guest.print("timercheck: \(failures) failure(s)")
    Guest.shutdown(.poweroff, exitCode: failures)
}
