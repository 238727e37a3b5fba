import CGuest
import SwiftvisorCore

/// The wake-up booster of the fair-share attack tests (issue 11): runs ~4 ms with interrupts
/// masked, then sleeps in WFI for a moment, in a loop, so that a scheduler that puts a woken
/// vCPU first with a fresh slice gives it nearly the whole core. Two ways to be woken:
///
/// - by default its own virtual timer, armed 50 us ahead;
/// - with `booster-sgi=1`, a sibling vCPU (vCPU 1, started with PSCI CPU_ON) that sends it
///   SGI 1 every 50 us from wherever it runs (another core).
///
/// Boot arguments: `booster-seconds=N` (default 4, 1...60) of counter time, then it prints
///
///     booster: ran R ms of T ms, woken W times
///
/// and powers off.
nonisolated(unsafe) var woken = 0

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let seconds = min(max(Guest.bootArgumentNumber("booster-seconds=") ?? 4, 1), 60)
    let bySGI = Guest.bootArgumentNumber("booster-sgi=") == 1
    let frequency = read_cntfrq()
    let burst = frequency / 250          // 4 ms
    let nap = frequency / 20_000         // 50 us
    Interrupts.start(cpu: 0)
    if bySGI {
        Interrupts.enable(1, cpu: 0)
        Interrupts.handler = { if $0 == 1 { woken += 1 } }
        Guest.secondaryMain = { cpu in
            // The waker: an SGI to vCPU 0 every 50 us, until vCPU 0 powers the guest off.
            Interrupts.start(cpu: cpu)
            while true {
                let next = read_cntvct() + nap
                while read_cntvct() < next {}
                Interrupts.sendSGI(1, toCPUs: 1 << 0)
            }
        }
        let stack = UnsafeMutableRawPointer.allocate(byteCount: 16 << 10, alignment: 16)
        let status = Guest.startCPU(1, stackTop: UInt64(UInt(bitPattern: stack)) + (16 << 10))
        Guest.print("booster: waker vCPU 1 started (\(status))")
    } else {
        Interrupts.enable(InterruptID.virtualTimer, cpu: 0)
        Interrupts.handler = { id in
            guard id == InterruptID.virtualTimer else { return }
            woken += 1
            write_cntv_ctl_el0(0)   // off until the next nap (the line drops)
        }
    }
    Guest.print("booster: \(burst * 1000 / frequency) ms bursts, woken by \(bySGI ? "SGIs from vCPU 1" : "its virtual timer") for \(seconds) s")
    let start = read_cntvct()
    let end = start + seconds * frequency
    var ran: UInt64 = 0
    while read_cntvct() < end {
        irq_disable()
        let burstStart = read_cntvct()
        while read_cntvct() - burstStart < burst {}
        ran += read_cntvct() - burstStart
        irq_enable(); irq_disable()   // take SGIs sent during the burst: the next one wakes it
        let seen = woken
        if !bySGI {
            write_cntv_cval_el0(read_cntvct() + nap)
            write_cntv_ctl_el0(1)   // ENABLE, IMASK clear
        }
        Guest.waitUntil { woken != seen }
    }
    let millisecond = frequency / 1000
    Guest.print("booster: ran \(ran / millisecond) ms of \((read_cntvct() - start) / millisecond) ms, woken \(woken) times")
    Guest.shutdown(.poweroff, exitCode: 0)
}
