import CGuest
import SwiftvisorCore

/// Holds a secret in its memory while the isolation probe runs, then checks that nobody
/// changed it. The secret text appears on its console once, so a test can look for it
/// anywhere else.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let secret: StaticString = "TOP-SECRET-7f3a9c"
    // Fill the guest's RAM from 8 MiB up to the device tree with copies of the secret.
    let start: UInt64 = 0x4080_0000, end = 0x4000_0000 + Guest.memoryBytes - (2 << 20)
    var a = start
    while a + 32 <= end {
        secret.withUTF8Buffer { b in for (i, byte) in b.enumerated() { UnsafeMutablePointer<UInt8>(bitPattern: UInt(a) + UInt(i))!.pointee = byte } }
        a += 32
    }
    Guest.print("planted \((end - start) / 32) copies of \(secret)")
    for _ in 0..<200 { Guest.yield() }
    var intact = true
    a = start
    while a + 32 <= end {
        secret.withUTF8Buffer { b in for (i, byte) in b.enumerated() where UnsafePointer<UInt8>(bitPattern: UInt(a) + UInt(i))!.pointee != byte { intact = false } }
        a += 32
    }
    Guest.print(intact ? "secret intact" : "SECRET CHANGED")
    Guest.shutdown(.poweroff, exitCode: intact ? 0 : 1)
}
