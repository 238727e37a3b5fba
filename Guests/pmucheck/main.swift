import CGuest

/// The PMU inside a guest (PMUv3, Arm ARM D11), as perf or kvm-unit-tests' pmu tests use it
/// from EL1: PMCR_EL0.N counters, the cycle counter, the instructions event (0x08) over a loop
/// of known length when the CPU implements it (PMCEID0_EL0 bit 8: QEMU's TCG only under
/// -icount), SW_INCR (event 0x00), and the overflow interrupt as INTID 23.
///
/// Boot argument `pmu-seconds=N`: then for N seconds it increments counter 0 (SW_INCR) and
/// checks it counted exactly its own increments: two such guests on one core show that each
/// vCPU's counters are its own. Exit code: the number of failed checks.

/// PMEVTYPER: event numbers (Arm ARM D11.11): SW_INCR, INST_RETIRED, CPU_CYCLES.
let softwareIncrement: UInt64 = 0x00, instructionsRetired: UInt64 = 0x08
/// PMCR_EL0: E (enable), P (reset event counters), C (reset cycle counter), LC (64-bit cycle overflow).
let pmcrEnable: UInt64 = 1, pmcrResetEvents: UInt64 = 1 << 1, pmcrResetCycles: UInt64 = 1 << 2, pmcrLongCycles: UInt64 = 1 << 6
let cycleCounterBit: UInt64 = 1 << 31

nonisolated(unsafe) var overflowInterrupts = 0
nonisolated(unsafe) var overflowSeen: UInt64 = 0

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    Interrupts.start(cpu: 0)
    var c = Checks()
    let dfr0 = read_id_aa64dfr0_el1()
    let pmcr = read_pmcr_el0()
    let n = Int(pmcr >> 11 & 0x1F)
    Guest.print("pmucheck: PMUVer \(dfr0 >> 8 & 0xF), PMCR_EL0 \(hex(pmcr)): \(n) event counters, PMCEID0_EL0 \(hex(read_pmceid0_el0()))")
    c.expect("pmu: ID_AA64DFR0_EL1.PMUVer says PMUv3", (dfr0 >> 8 & 0xF) != 0 && (dfr0 >> 8 & 0xF) != 0xF)
    c.expect("pmu: at least 3 event counters", n >= 3)

    if let seconds = Guest.bootArgumentNumber("pmu-seconds=") {
        shared(&c, seconds: seconds)
        c.finish()
    }

    // The cycle counter, counting EL1 and EL0 (PMCCFILTR_EL0 = 0).
    write_pmccfiltr_el0(0)
    write_pmcntenset_el0(cycleCounterBit)
    write_pmcr_el0(pmcrEnable | pmcrResetCycles | pmcrResetEvents | pmcrLongCycles)
    let c0 = read_pmccntr_el0()
    pmu_loop(100_000)
    let c1 = read_pmccntr_el0()
    Guest.print("pmu: \(c1 &- c0) cycles over a 100000-iteration loop")
    c.expect("cycles: the cycle counter counts", c1 > c0)
    write_pmcntenclr_el0(cycleCounterBit)
    let stopped = read_pmccntr_el0()
    pmu_loop(10_000)
    c.expect("cycles: stopped once disabled", Int64(read_pmccntr_el0() &- stopped), 0)

    // Instructions retired over the loop: 2 per iteration, plus the few around it.
    if read_pmceid0_el0() & (1 << 8) != 0 {
        write_pmevtyper0_el0(instructionsRetired)
        write_pmevcntr0_el0(0)
        write_pmcntenset_el0(1)
        pmu_loop(100_000)
        write_pmcntenclr_el0(1)
        let counted = read_pmevcntr0_el0()
        Guest.print("pmu: \(counted) instructions over a 100000-iteration loop of 2")
        c.expect("instructions: about the loop's 200000", counted >= 200_000 && counted < 200_100)
    } else {
        Guest.print("pmu: the instructions event is not implemented here (PMCEID0_EL0 bit 8 clear)")
    }

    // SW_INCR: counter 1 counts the writes of 1 << 1 to PMSWINC_EL0, selected through PMSELR.
    write_pmselr_el0(1)
    write_pmxevtyper_el0(softwareIncrement)
    c.expect("sw_incr: PMXEVTYPER_EL0 reads back through PMSELR_EL0", Int64(read_pmevtyper1_el0() & 0xFFFF), Int64(softwareIncrement))
    write_pmxevcntr_el0(0)
    write_pmcntenset_el0(1 << 1)
    for _ in 0..<5 { write_pmswinc_el0(1 << 1) }
    c.expect("sw_incr: five increments", Int64(read_pmevcntr1_el0()), 5)
    write_pmcntenclr_el0(1 << 1)
    write_pmswinc_el0(1 << 1)
    c.expect("sw_incr: none while the counter is disabled", Int64(read_pmevcntr1_el0()), 5)

    // Overflow: counter 2 (SW_INCR) at 0xFFFFFFFF, its interrupt enabled: one more increment
    // wraps it, sets PMOVSCLR_EL0 bit 2 and raises INTID 23; the handler clears it.
    Interrupts.enable(23, cpu: 0)
    Interrupts.handler = { id in
        guard id == 23 else { return }
        overflowInterrupts += 1
        overflowSeen |= read_pmovsclr_el0()
        write_pmovsclr_el0(1 << 2)
    }
    write_pmselr_el0(2)
    write_pmxevtyper_el0(softwareIncrement)
    write_pmxevcntr_el0(0xFFFF_FFFF)
    write_pmintenset_el1(1 << 2)
    c.expect("overflow: PMINTENSET_EL1 reads back", Int64(read_pmintenset_el1() & (1 << 2)), 1 << 2)
    write_pmcntenset_el0(1 << 2)
    irq_enable()
    write_pmswinc_el0(1 << 2)
    let start = read_cntvct()
    while overflowInterrupts == 0 && read_cntvct() - start < read_cntfrq() / 10 {}
    irq_disable()
    c.expect("overflow: one interrupt (INTID 23)", Int64(overflowInterrupts), 1)
    c.expect("overflow: PMOVSCLR_EL0 said counter 2", overflowSeen & (1 << 2) != 0)
    c.expect("overflow: cleared by the handler", Int64(read_pmovsclr_el0() & (1 << 2)), 0)
    c.expect("overflow: the counter wrapped to 0", Int64(pmu_counter(2)), 0)
    write_pmintenclr_el1(~UInt64(0))
    write_pmcntenclr_el0(~UInt64(0))
    c.finish()
}

func pmu_counter(_ n: UInt64) -> UInt64 { write_pmselr_el0(n); return read_pmxevcntr_el0() }

/// Counter 0 counts SW_INCR; this guest increments it for `seconds` and checks that it counted
/// exactly its own increments however often the other guest on the core ran.
func shared(_ c: inout Checks, seconds: UInt64) {
    write_pmevtyper0_el0(softwareIncrement)
    write_pmevcntr0_el0(0)
    write_pmccfiltr_el0(0)
    write_pmcntenset_el0(1 | cycleCounterBit)
    write_pmcr_el0(pmcrEnable | pmcrResetCycles | pmcrLongCycles)
    let frequency = read_cntfrq()
    let start = read_cntvct(), end = start + min(max(seconds, 1), 30) * frequency
    var increments: UInt64 = 0, gaps: UInt64 = 0, last = start
    while last < end {
        write_pmswinc_el0(1)
        increments += 1
        let now = read_cntvct()
        if now - last > frequency / 1000 { gaps += 1 }
        last = now
    }
    let counted = read_pmevcntr0_el0(), cycles = read_pmccntr_el0()
    Guest.print("pmu shared: \(increments) increments, counter 0 says \(counted), \(cycles) cycles, switched out \(gaps) times")
    c.expect("isolation: counter 0 counted exactly this guest's increments", counted == increments & 0xFFFF_FFFF)
    c.expect("isolation: this guest was switched out while it counted", gaps > 0)
    write_pmcntenclr_el0(~UInt64(0))
}
