import CGuest
import SwiftvisorCore

/// The console-flood attack of the lock tests (issue 11): with interrupts masked, for
/// `flood-seconds=N` of counter time (default 3, 1...60), it writes 16 KiB console_io writes
/// (the largest Xen takes: 128 lines of 127 characters) as fast as it can, then prints
///
///     flood: W writes of 16384 bytes, all answered 0
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let seconds = min(max(Guest.bootArgumentNumber("flood-seconds=") ?? 3, 1), 60)
    var text = [UInt8]()
    for line in 0..<128 {
        let start = "flood line \(line) "
        text.append(contentsOf: start.utf8)
        while text.count % 128 < 127 { text.append(UInt8(ascii: "x")) }
        text.append(UInt8(ascii: "\n"))
    }
    Guest.print("flood: writing 16 KiB console_io writes for \(seconds) s")
    irq_disable()
    let end = read_cntvct() + seconds * read_cntfrq()
    var writes: UInt64 = 0, failures: UInt64 = 0
    while read_cntvct() < end {
        let r = text.withUnsafeBufferPointer {
            xen_hypercall(XenABI.Number.consoleIO.rawValue, XenABI.ConsoleCommand.write.rawValue,
                          UInt64($0.count), UInt64(UInt(bitPattern: $0.baseAddress)))
        }
        writes += 1
        if r != 0 { failures += 1 }
    }
    irq_enable()
    // The hypervisor drops console output beyond 32 KiB/s (ConsoleRateLimit) and takes it again
    // once a second's worth was earned back: quiet for 1.5 s, so that this summary is printed.
    let quiet = read_cntvct() + read_cntfrq() * 3 / 2
    while read_cntvct() < quiet {}
    Guest.print(failures == 0 ? "flood: \(writes) writes of \(text.count) bytes, all answered 0"
                              : "flood: \(writes) writes of \(text.count) bytes, \(failures) failed")
    Guest.shutdown(.poweroff, exitCode: 0)
}
