import CGuest

/// Masks interrupts and spins for 3 s of counter time without trapping, then powers off:
/// the other guests must keep running meanwhile.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Guest.print("hogging the CPU for 3 s with interrupts masked")
    irq_disable()
    let end = read_cntvct() + 3 * read_cntfrq()
    while read_cntvct() < end {}
    Guest.print("done hogging")
    Guest.shutdown(.poweroff, exitCode: 0)
}
