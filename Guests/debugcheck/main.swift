import CGuest

/// Self-hosted debug inside a guest (Arm ARM D2), as a debugger or kvm-unit-tests' debug tests
/// use it from EL1: a hardware breakpoint, a watchpoint on a store, single-step, BRK, and the
/// OS lock (no breakpoint, watchpoint or step exception while it is set, Arm ARM D2.5), each
/// delivered to this guest's own EL1 vectors (Guests/Kit/debug.S).
///
/// Boot arguments: `debug-role=1` then keeps a breakpoint on `debug_target` and a store
/// watchpoint on `debug_watched` for `debug-seconds=N` (default 3) and checks that every call
/// and store hits; `debug-role=2` runs the same calls and stores with no breakpoint of its own
/// for N seconds and checks that none hits and its registers read zero: run beside role 1 on
/// the same core, it shows that one guest's breakpoints do not reach another.
/// Exit code: the number of failed checks.

/// DBGBCR: BAS 0b1111, PMC 0b11 (EL1 and EL0), E (Arm ARM D19.3.2).
let breakpointControl: UInt64 = 0xF << 5 | 0b11 << 1 | 1
/// DBGWCR: BAS 0xFF (8 bytes), LSC 0b10 (stores), PAC 0b11 (EL1 and EL0), E (D19.3.12).
let storeWatchpointControl: UInt64 = 0xFF << 5 | 0b10 << 3 | 0b11 << 1 | 1
/// MDSCR_EL1: KDE (bit 13, debug exceptions at EL1), MDE (bit 15, breakpoints and watchpoints).
let mdscrDebugOn: UInt64 = 1 << 13 | 1 << 15

func exceptionClass(_ esr: UInt64) -> Int64 { Int64(esr >> 26) }

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    debug_install_vectors()
    var c = Checks()
    let role = Guest.bootArgumentNumber("debug-role=") ?? 0
    let dfr0 = read_id_aa64dfr0_el1()
    let breakpoints = (dfr0 >> 12 & 0xF) + 1, watchpoints = (dfr0 >> 20 & 0xF) + 1
    Guest.print("debugcheck: \(breakpoints) breakpoints, \(watchpoints) watchpoints (ID_AA64DFR0_EL1 \(hex(dfr0)))")
    c.expect("debug: at least 2 breakpoints and 2 watchpoints", breakpoints >= 2 && watchpoints >= 2)

    // OS lock: locked at reset (OSLSR_EL1.OSLK, bit 1), unlocked by OSLAR_EL1 = 0 (D2.5).
    c.expect("debug: OS lock set at reset", Int64(read_oslsr_el1() >> 1 & 1), 1)
    write_oslar_el1(0)
    c.expect("debug: OS lock clear after OSLAR_EL1 = 0", Int64(read_oslsr_el1() >> 1 & 1), 0)
    write_mdscr_el1(mdscrDebugOn)
    c.expect("debug: MDSCR_EL1 reads back", Int64(read_mdscr_el1() & mdscrDebugOn), Int64(mdscrDebugOn))
    debug_unmask()

    if role == 2 {
        clean(&c)
        c.finish()
    }

    // A breakpoint on debug_target's first instruction: taken before it runs, ELR = its address.
    debug_record_clear()
    write_dbgbvr0_el1(debug_target_address())
    write_dbgbcr0_el1(breakpointControl)
    c.expect("debug: DBGBVR0_EL1 reads back", read_dbgbvr0_el1() == debug_target_address())
    c.expect("debug: DBGBCR0_EL1 reads back", Int64(read_dbgbcr0_el1()), Int64(breakpointControl))
    let returned = debug_target()
    c.expect("breakpoint: one exception", Int64(debug_record_count()), 1)
    c.expect("breakpoint: ESR_EL1.EC is breakpoint, same EL (0x31)", exceptionClass(debug_record_esr()), 0x31)
    c.expect("breakpoint: ELR_EL1 is the breakpoint address", debug_record_elr() == debug_target_address())
    c.expect("breakpoint: the function goes on after it", Int64(returned), 7)
    // With the OS lock set, breakpoints generate no exception (D2.5); unlocked, they do again.
    write_oslar_el1(1)
    _ = debug_target()
    c.expect("breakpoint: none while the OS lock is set", Int64(debug_record_count()), 1)
    write_oslar_el1(0)
    _ = debug_target()
    c.expect("breakpoint: hit again after unlocking", Int64(debug_record_count()), 2)
    write_dbgbcr0_el1(0)
    _ = debug_target()
    c.expect("breakpoint: none once disabled", Int64(debug_record_count()), 2)

    // A watchpoint on stores to debug_watched: loads pass, a store is stopped before it writes.
    debug_record_clear()
    let word = debug_watched_address()
    debug_store(word, 1)
    write_dbgwvr0_el1(word)
    write_dbgwcr0_el1(storeWatchpointControl)
    c.expect("debug: DBGWCR0_EL1 reads back", Int64(read_dbgwcr0_el1()), Int64(storeWatchpointControl))
    _ = debug_load(word)
    c.expect("watchpoint: a load does not hit a store watchpoint", Int64(debug_record_count()), 0)
    debug_store(word, 5)
    c.expect("watchpoint: a store hits", Int64(debug_record_count()), 1)
    c.expect("watchpoint: ESR_EL1.EC is watchpoint, same EL (0x35)", exceptionClass(debug_record_esr()), 0x35)
    c.expect("watchpoint: FAR_EL1 is the watched address", debug_record_far() == word)
    c.expect("watchpoint: the store was not done (the handler skipped it)", Int64(debug_load(word)), 1)
    // With the OS lock set, the same store is not stopped (D2.5).
    write_oslar_el1(1)
    debug_store(word, 9)
    c.expect("watchpoint: none while the OS lock is set", Int64(debug_record_count()), 1)
    c.expect("watchpoint: the store was done while the OS lock is set", Int64(debug_load(word)), 9)
    write_oslar_el1(0)
    write_dbgwcr0_el1(0)
    debug_store(word, 6)
    c.expect("watchpoint: disabled, the store is done", Int64(debug_load(word)), 6)

    // Single-step with the OS lock set: no Software Step exception (D2.5), the code runs
    // straight through, and MDSCR_EL1 still reads MDE, KDE and SS as written.
    debug_record_clear()
    write_oslar_el1(1)
    let unstepped = debug_step_run()
    let lockedMDSCR = read_mdscr_el1()
    write_mdscr_el1(lockedMDSCR & ~1)
    write_oslar_el1(0)
    c.expect("step: the code ran whole with the OS lock set", Int64(unstepped), 16)
    c.expect("step: none while the OS lock is set", Int64(debug_record_steps()), 0)
    c.expect("step: MDSCR_EL1 reads MDE, KDE and SS as written while the OS lock is set",
             Int64(lockedMDSCR & (mdscrDebugOn | 1)), Int64(mdscrDebugOn | 1))
    c.expect("step: MDSCR_EL1 keeps MDE and KDE after unlocking", Int64(read_mdscr_el1() & (mdscrDebugOn | 1)), Int64(mdscrDebugOn))

    // Unlocked: single-step through 17 instructions (16 adds and an OSLSR_EL1 read the hypervisor
    // emulates): one Software Step exception after each.
    debug_record_clear()
    let counted = debug_step_run()
    c.expect("step: the stepped code ran whole", Int64(counted), 16)
    c.expect("step: one exception per instruction (17)", Int64(debug_record_steps()), 17)
    c.expect("step: ESR_EL1.EC is software step, same EL (0x33)", exceptionClass(debug_record_esr()), 0x33)
    c.expect("step: the last one at the end of the stepped code", debug_record_elr() == debug_step_end_address())
    c.expect("step: MDSCR_EL1.SS clear after", Int64(read_mdscr_el1() & 1), 0)

    // BRK #0x42: ESR_EL1.EC 0x3C with the immediate in ISS (D17.2.37).
    debug_record_clear()
    debug_brk()
    c.expect("brk: one exception", Int64(debug_record_count()), 1)
    c.expect("brk: ESR_EL1.EC is BRK (0x3C)", exceptionClass(debug_record_esr()), 0x3C)
    c.expect("brk: ESR_EL1.ISS is the immediate", Int64(debug_record_esr() & 0xFFFF), 0x42)
    c.expect("brk: ELR_EL1 is the BRK", debug_record_elr() == debug_brk_address())

    if role == 1 { armed(&c) }
    c.finish()
}

var seconds: UInt64 { min(max(Guest.bootArgumentNumber("debug-seconds=") ?? 3, 1), 30) }

/// Calls debug_target and stores to debug_watched for `seconds`; returns the calls made and
/// the gaps in the counter over 1 ms (times this vCPU was switched out).
func exercise(_ each: () -> Void) -> (calls: UInt64, gaps: UInt64) {
    let frequency = read_cntfrq()
    let end = read_cntvct() + seconds * frequency
    var calls: UInt64 = 0, gaps: UInt64 = 0, last = read_cntvct()
    while last < end {
        _ = debug_target()
        debug_store(debug_watched_address(), calls)
        each()
        calls += 1
        let now = read_cntvct()
        if now - last > frequency / 1000 { gaps += 1 }
        last = now
    }
    return (calls, gaps)
}

/// Role 1: every call and store hits this guest's own breakpoint and watchpoint.
func armed(_ c: inout Checks) {
    debug_record_clear()
    write_dbgbvr0_el1(debug_target_address())
    write_dbgbcr0_el1(breakpointControl)
    write_dbgwvr0_el1(debug_watched_address())
    write_dbgwcr0_el1(storeWatchpointControl)
    var wrongRegisters: UInt64 = 0
    let (calls, gaps) = exercise {
        if read_dbgbvr0_el1() != debug_target_address() || read_dbgwcr0_el1() != storeWatchpointControl { wrongRegisters += 1 }
    }
    Guest.print("armed: \(calls) calls, \(debug_record_count()) debug exceptions, switched out \(gaps) times")
    c.expect("isolation: every call and store hit this guest's breakpoint and watchpoint", debug_record_count() == 2 * calls)
    c.expect("isolation: this guest's registers kept their values", Int64(wrongRegisters), 0)
    c.expect("isolation: this guest was switched out while it ran", gaps > 0)
    write_dbgbcr0_el1(0)
    write_dbgwcr0_el1(0)
}

/// Role 2: the same code and addresses, no breakpoint of its own: nothing hits.
func clean(_ c: inout Checks) {
    debug_record_clear()
    var nonZero: UInt64 = 0
    let (calls, gaps) = exercise {
        if read_dbgbvr0_el1() | read_dbgbcr0_el1() | read_dbgwvr0_el1() | read_dbgwcr0_el1() != 0 { nonZero += 1 }
    }
    Guest.print("clean: \(calls) calls, \(debug_record_count()) debug exceptions, switched out \(gaps) times")
    c.expect("isolation: no debug exception from another guest's breakpoints", Int64(debug_record_count()), 0)
    c.expect("isolation: this guest's breakpoint registers read zero", Int64(nonZero), 0)
    c.expect("isolation: this guest was switched out while it ran", gaps > 0)
}
