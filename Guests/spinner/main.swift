import CGuest

/// Masks interrupts and spins forever without ever trapping: only the hypervisor's
/// preemption timer can take the CPU back.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Guest.print("spinning forever with interrupts masked")
    spin_forever_masked()
}
