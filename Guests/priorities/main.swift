import CGuest
import SwiftvisorCore

/// Makes eight SGIs pending at once, more than the list registers hold, each with its own
/// priority, then unmasks: they must arrive highest priority (lowest value) first.
nonisolated(unsafe) var order: [UInt32] = []

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Interrupts.start(cpu: 0)
    let priorities: [UInt8] = [0xA0, 0x20, 0xE0, 0x40, 0x80, 0x10, 0xC0, 0x60]   // for SGIs 0-7
    for (sgi, p) in priorities.enumerated() { Interrupts.enable(UInt32(sgi), cpu: 0, priority: p) }
    Interrupts.handler = { order.append($0) }
    for sgi in 0..<8 { Interrupts.sendSGI(UInt32(sgi), toCPUs: 1) }
    irq_enable()
    Guest.waitUntil { order.count >= 8 }
    irq_disable()
    let expected = (0..<8).sorted { priorities[$0] < priorities[$1] }.map(UInt32.init)
    let text = order.map { "\($0)" }.joined(separator: " ")
    let ok = order == expected
    Guest.print("order: \(text) (\(ok ? "ok" : "FAIL"))")
    Guest.shutdown(.poweroff, exitCode: ok ? 0 : 1)
}
