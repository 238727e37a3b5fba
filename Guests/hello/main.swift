import CGuest
import SwiftvisorCore

/// Prints through the emulated PL011 and through console_io, checks xen_version, and powers
/// off with exit code 0.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Guest.print("hello from a swiftvisor guest: \(Guest.bootArguments)")
    Guest.print("memory \(Guest.memoryBytes >> 20) MiB, \(Guest.cpuCount) CPU(s)")
    let version = xen_hypercall(XenABI.Number.xenVersion.rawValue, XenABI.VersionCommand.version.rawValue, 0, 0)
    Guest.consoleWrite("xen_version says \(version >> 16).\(version & 0xFFFF) (via console_io)")
    for round in 1...3 {
        Guest.print("round \(round)")
        Guest.yield()
    }
    Guest.print("goodbye")
    Guest.shutdown(.poweroff, exitCode: 0)
}
