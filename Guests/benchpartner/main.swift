import CGuest

/// The other side of the bench guest's world-switch loop: yields straight back, then powers off.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    for _ in 0..<21_000 { Guest.yield() }
    Guest.shutdown(.poweroff, exitCode: 0)
}
