import _Volatile
import CGuest
import SwiftvisorCore

/// Drives a passed-through PL031 real-time clock (QEMU virt: page 0x9010, SPI 2 = INTID 34):
/// sets its match register one second ahead three times and counts the alarm interrupts, which
/// reach it as a physical SPI routed through the hypervisor (PL031 TRM, DDI0224).
nonisolated(unsafe) var alarms = 0
let rtc: UInt64 = 0x0901_0000
let rtcINTID: UInt32 = 34

func rtcRegister(_ offset: UInt64) -> VolatileMappedRegister<UInt32> {
    VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(rtc + offset))
}

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    // RTCPeriphID: a PL031 answers 0x31 in PeriphID0.
    Guest.print("PL031 PeriphID0: \(hex(UInt64(rtcRegister(0xFE0).load())))")
    Interrupts.start(cpu: 0)
    Interrupts.enableSPI(rtcINTID, cpu: 0)
    Interrupts.handler = { intid in
        guard intid == rtcINTID else { return }
        rtcRegister(0x1C).store(1)        // RTCICR: clear the alarm
        alarms += 1
    }
    for round in 1...3 {
        rtcRegister(0x04).store(rtcRegister(0x00).load() &+ 1)   // RTCMR = RTCDR + 1
        rtcRegister(0x10).store(1)                               // RTCIMSC: alarm interrupt on
        Guest.waitUntil { alarms >= round }
    }
    rtcRegister(0x10).store(0)
    Guest.print("rtc alarm interrupts: \(alarms) of 3 (\(alarms == 3 ? "ok" : "FAIL"))")
    Guest.shutdown(.poweroff, exitCode: alarms == 3 ? 0 : 1)
}
