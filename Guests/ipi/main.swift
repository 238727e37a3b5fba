import CGuest
import SwiftvisorCore

/// Two vCPUs play ping-pong with SGIs: vCPU 0 sends SGI 1 to vCPU 1, which answers with SGI 2.
/// Both wait in WFI between balls. Then SGI 3 asks vCPU 1 to leave with PSCI CPU_OFF, and
/// vCPU 0 waits until AFFINITY_INFO reports it off.
nonisolated(unsafe) var pings = 0
nonisolated(unsafe) var pongs = 0
let rounds = 200

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Interrupts.start(cpu: 0)
    Interrupts.enable(2, cpu: 0)
    Interrupts.handler = { if $0 == 2 { pongs += 1 } }
    Guest.secondaryMain = { cpu in
        Interrupts.start(cpu: cpu)
        Interrupts.enable(1, cpu: cpu)
        Interrupts.enable(3, cpu: cpu)
        Interrupts.handler = { intid in
            if intid == 1 { pings += 1; Interrupts.sendSGI(2, toCPUs: 1) }
            if intid == 3 {
                Interrupts.endOfInterrupt(3)
                _ = smccc_hvc(0x8400_0002, 0, 0, 0)   // PSCI CPU_OFF: does not return
                Guest.print("CPU_OFF returned")
            }
        }
        irq_enable()
        while true { guest_wfi() }
    }
    // vCPU 1's stack: 16 KiB from the heap area's top end.
    let stack = UnsafeMutableRawPointer.allocate(byteCount: 16 << 10, alignment: 16)
    let status = Guest.startCPU(1, stackTop: UInt64(UInt(bitPattern: stack)) + (16 << 10))
    Guest.print("CPU_ON(1): \(status)")
    // Wait until vCPU 1 reports itself on.
    while smccc_hvc(0xC400_0004, 1, 0, 0) != 0 { Guest.yield() }
    irq_enable()
    for round in 1...rounds {
        Interrupts.sendSGI(1, toCPUs: 1 << 1)
        Guest.waitUntil { pongs >= round }
    }
    irq_disable()
    let ok = pings == rounds && pongs == rounds
    Guest.print("ipi ping-pong: \(pings) pings, \(pongs) pongs of \(rounds) (\(ok ? "ok" : "FAIL"))")
    Interrupts.sendSGI(3, toCPUs: 1 << 1)
    var polls = 0
    while smccc_hvc(0xC400_0004, 1, 0, 0) != 1 && polls < 100_000 { Guest.yield(); polls += 1 }
    let off = smccc_hvc(0xC400_0004, 1, 0, 0) == 1
    Guest.print(off ? "vCPU 1 is off (PSCI CPU_OFF, AFFINITY_INFO)" : "FAIL: vCPU 1 did not turn off")
    Guest.shutdown(.poweroff, exitCode: ok && off ? 0 : 1)
}
