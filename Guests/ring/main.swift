import CGuest
import SwiftvisorCore

/// Every vCPU the device tree lists passes a token (SGI 1) to the next, round and round:
/// vCPU 0 counts the laps. Exit code 0 when all laps came back.
nonisolated(unsafe) var laps = 0
nonisolated(unsafe) var cpus = 1
let lapsWanted = 100

func passToken(from cpu: Int) { Interrupts.sendSGI(1, toCPUs: UInt16(1 << ((cpu + 1) % cpus))) }

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    cpus = Guest.cpuCount
    Interrupts.start(cpu: 0)
    Interrupts.enable(1, cpu: 0)
    Interrupts.handler = { if $0 == 1 { laps += 1; if laps < lapsWanted { passToken(from: 0) } } }
    Guest.secondaryMain = { cpu in
        Interrupts.start(cpu: cpu)
        Interrupts.enable(1, cpu: cpu)
        Interrupts.handler = { if $0 == 1 { passToken(from: cpu) } }
        irq_enable()
        while true { guest_wfi() }
    }
    for cpu in 1..<cpus {
        let stack = UnsafeMutableRawPointer.allocate(byteCount: 16 << 10, alignment: 16)
        let status = Guest.startCPU(cpu, stackTop: UInt64(UInt(bitPattern: stack)) + (16 << 10))
        if status != 0 { Guest.print("CPU_ON(\(cpu)) failed: \(status)"); Guest.shutdown(.poweroff, exitCode: 1) }
        while smccc_hvc(0xC400_0004, UInt64(cpu), 0, 0) != 0 { Guest.yield() }
    }
    irq_enable()
    passToken(from: 0)
    Guest.waitUntil { laps >= lapsWanted }
    irq_disable()
    let ok = laps == lapsWanted
    Guest.print("token ring over \(cpus) vCPUs: \(laps) of \(lapsWanted) laps (\(ok ? "ok" : "FAIL"))")
    Guest.shutdown(.poweroff, exitCode: ok ? 0 : 1)
}
