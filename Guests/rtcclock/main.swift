import _Volatile
import CGuest
import SwiftvisorCore

/// The emulated PL031 real-time clock every virt-layout guest gets (page 0x9010, SPI 2 = INTID
/// 34; DDI 0224): prints RTCDR (the host's real time, for the system test to compare), checks
/// the identification registers, that RTCLR moves this guest's clock (and RTCDR counts on from
/// it), and that the alarm (RTCMR one second ahead, RTCIMSC set) interrupts and RTCICR clears it.
/// Exit code: the number of failures.
nonisolated(unsafe) var alarms = 0
nonisolated(unsafe) var failures: UInt32 = 0
let rtc: UInt64 = 0x0901_0000
let rtcINTID: UInt32 = 34

func register(_ offset: UInt64) -> VolatileMappedRegister<UInt32> {
    VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(rtc + offset))
}

func check(_ what: StaticString, _ ok: Bool, _ detail: String = "") {
    if ok { Guest.print("rtc: ok \(what)") } else { failures += 1; Guest.print("rtc: FAIL \(what) (\(detail))") }
}

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let seconds = register(0x00).load()
    Guest.print("rtc seconds: \(seconds)")
    var id: [UInt32] = []
    for n in 0..<8 { id.append(register(0xFE0 + UInt64(n) * 4).load()) }
    check("PeriphID 0x31 0x10 0x14 0x00, PCellID 0x0d 0xf0 0x05 0xb1", id == [0x31, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1],
          id.map { hex(UInt64($0)) }.joined(separator: " "))
    check("RTCCR reads as started", register(0x0C).load() & 1 == 1)

    // RTCLR: a day ahead, then back.
    let ahead = register(0x00).load() &+ 86_400
    register(0x08).store(ahead)
    let moved = register(0x00).load()
    check("RTCLR sets RTCDR", moved &- ahead <= 1, "RTCDR \(moved), loaded \(ahead)")
    check("RTCLR reads back", register(0x08).load() == ahead)
    register(0x08).store(register(0x00).load() &- 86_400)
    let back = register(0x00).load()
    check("RTCLR sets it back", back &- seconds <= 2, "RTCDR \(back), first \(seconds)")

    // The alarm, three times.
    Interrupts.start(cpu: 0)
    Interrupts.enableSPI(rtcINTID, cpu: 0)
    Interrupts.handler = { intid in
        guard intid == rtcINTID else { return }
        if register(0x18).load() & 1 != 0 { alarms += 1 }   // RTCMIS
        register(0x1C).store(1)                              // RTCICR
    }
    for round in 1...3 {
        let match = register(0x00).load() &+ 1
        register(0x04).store(match)                          // RTCMR = RTCDR + 1
        if round == 1 { check("RTCMR reads back", register(0x04).load() == match) }
        register(0x10).store(1)                              // RTCIMSC
        let end = read_cntvct() + 3 * read_cntfrq()
        irq_enable()
        while alarms < round && read_cntvct() < end {}
        irq_disable()
        register(0x10).store(0)
    }
    check("RTCRIS clear after RTCICR", register(0x14).load() == 0)
    Guest.print("rtc alarm interrupts: \(alarms) of 3 (\(alarms == 3 ? "ok" : "FAIL"))")
    if alarms != 3 { failures += 1 }
    Guest.shutdown(.poweroff, exitCode: failures)
}
