import CGuest

/// Crashes the way a broken kernel does: MMU off, no exception vectors, then a load from
/// an address that is not its memory. The hypervisor must stop it and name it.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Guest.print("about to crash")
    guest_mmu_off()
    crash_at(0x1000_0000)   // nothing is mapped there: instruction abort, and no vector to take it
}
