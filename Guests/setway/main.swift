import CGuest

/// The set/way attack of the fair-share tests (issue 11): with interrupts masked, for
/// `setway-seconds=N` of counter time (default 4, 1...60), it loops on
///
/// - writing a pattern to a buffer with its caches on,
/// - a whole DC CISW sweep (every set and way of every data cache level, as a kernel does before
///   turning its caches off),
/// - reading the buffer back with its MMU and data cache off, and checking the pattern,
///
/// so each round asks the hypervisor for three cleans of all its RAM (the sweep's first
/// operation, caches off, caches on). With `setway-plain` it only spins for that long (the
/// baseline neighbour). It prints one line the tests read:
///
///     setway: R rounds of S set/way operations, memory as written with caches off: M of R
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let seconds = min(max(Guest.bootArgumentNumber("setway-seconds=") ?? 4, 1), 60)
    let words = 512
    var buffer = [UInt64](repeating: 0, count: words)
    let operations = sweep(count: true)
    if Guest.hasBootArgument("setway-plain") {
        Guest.print("setway: spinning plainly for \(seconds) s")
        irq_disable()
        let end = read_cntvct() + seconds * read_cntfrq()
        while read_cntvct() < end {}
        irq_enable()
        Guest.print("setway: spun plainly")
        Guest.shutdown(.poweroff, exitCode: 0)
    }
    Guest.print("setway: sweeping \(operations) set/way operations a round for \(seconds) s")
    irq_disable()
    let end = read_cntvct() + seconds * read_cntfrq()
    var rounds: UInt64 = 0, intact: UInt64 = 0
    while read_cntvct() < end {
        rounds += 1
        var expected: UInt64 = 0
        for i in 0..<words {
            let v = rounds &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i)
            buffer[i] = v
            expected &+= v
        }
        _ = sweep(count: false)
        let seen = buffer.withUnsafeBufferPointer { sum_with_caches_off(UInt64(UInt(bitPattern: $0.baseAddress)), UInt64(words)) }
        if seen == expected { intact += 1 }
    }
    irq_enable()
    Guest.print("setway: \(rounds) rounds of \(operations) set/way operations, memory as written with caches off: \(intact) of \(rounds)")
    Guest.shutdown(.poweroff, exitCode: 0)
}

/// One DC CISW per set and way of every data or unified cache level up to the Level of
/// Coherency (CLIDR_EL1.LoC), as Linux's old __flush_dcache_all; returns how many.
func sweep(count: Bool) -> UInt64 {
    let clidr = read_clidr()
    let levelOfCoherency = (clidr >> 24) & 7
    // FEAT_CCIDX (ID_AA64MMFR2_EL1.CCIDX, bits 23:20) widens CCSIDR_EL1's fields.
    let wideIndexes = (read_id_aa64mmfr2() >> 20) & 0xF != 0
    var operations: UInt64 = 0
    var level: UInt64 = 0
    while level < levelOfCoherency {
        defer { level += 1 }
        guard (clidr >> (level * 3)) & 7 >= 2 else { continue }   // Ctype: data, separate or unified
        let ccsidr = read_ccsidr(level << 1)
        let lineShift = (ccsidr & 7) + 4
        let ways = (wideIndexes ? (ccsidr >> 3) & 0x1F_FFFF : (ccsidr >> 3) & 0x3FF) + 1
        let sets = (wideIndexes ? (ccsidr >> 32) & 0xFF_FFFF : (ccsidr >> 13) & 0x7FFF) + 1
        let wayShift = UInt64(UInt32(truncatingIfNeeded: ways - 1).leadingZeroBitCount)
        if count { operations += ways * sets; continue }
        var way: UInt64 = 0
        while way < ways {
            var set: UInt64 = 0
            while set < sets {
                dc_cisw((wayShift < 32 ? way << wayShift : 0) | set << lineShift | level << 1)
                set += 1
            }
            way += 1
        }
    }
    return operations
}
