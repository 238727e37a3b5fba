import CGuest

/// The reboot-loop attacker (issue 11 §1): at every boot it asks for PSCI SYSTEM_RESET at once,
/// so the hypervisor zeroes its (large) RAM again and again, until `VMLifecycle.maximumBoots`
/// stops it. It prints one line a boot, which the test counts:
///
///     rebooter: boot N, resetting
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    // The hypervisor adds swiftvisor.boot=N from the second boot on.
    let boot = Guest.bootArgumentNumber("swiftvisor.boot=") ?? 1
    Guest.print("rebooter: boot \(boot), resetting")
    _ = smccc_hvc(0x8400_0009, 0, 0, 0)   // PSCI SYSTEM_RESET (DEN0022): does not return
    Guest.print("rebooter: SYSTEM_RESET returned")
    Guest.shutdown(.crash, exitCode: 1)
}
