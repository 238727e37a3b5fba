import CGuest

/// The victim of the fair-share attack tests: spins with interrupts masked (so it never gives
/// the CPU away itself) for `seconds` of counter time, and measures how much of that time it
/// actually ran. The virtual counter goes on while the vCPU is switched out, so a jump between
/// two reads longer than `gapThreshold` is time the vCPU did not run. It prints one line the
/// tests read:
///
///     victim: ran R ms of T ms (P %), longest gap G us, gaps over 1 ms: N
///
/// Boot arguments: `victim-seconds=N` (default 4, 1...60).
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let seconds = min(max(Guest.bootArgumentNumber("victim-seconds=") ?? 4, 1), 60)
    let frequency = read_cntfrq()
    // 50 us: far above one loop iteration under TCG, far below a time slice.
    let gapThreshold = frequency / 20_000
    let millisecond = frequency / 1000
    Guest.print("victim: measuring \(seconds) s")
    irq_disable()
    let start = read_cntvct()
    let end = start + seconds * frequency
    var last = start, notRunning: UInt64 = 0, longest: UInt64 = 0, longGaps = 0
    while last < end {
        let now = read_cntvct()
        let delta = now &- last
        if delta > gapThreshold {
            notRunning += delta
            if delta > longest { longest = delta }
            if delta > millisecond { longGaps += 1 }
        }
        last = now
    }
    irq_enable()
    let total = last - start
    let ran = total - notRunning
    let percent = ran * 100 / total
    Guest.print("victim: ran \(ran / millisecond) ms of \(total / millisecond) ms (\(percent) %), longest gap \(longest * 1_000_000 / frequency) us, gaps over 1 ms: \(longGaps)")
    Guest.shutdown(.poweroff, exitCode: 0)
}

