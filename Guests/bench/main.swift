import CGuest
import SwiftvisorCore

/// Times round trips with CNTVCT. Under QEMU -icount shift=0 one nanosecond is one
/// instruction, so ticks convert to instructions; each loop's own cost (an empty loop of the
/// same shape) is subtracted. Runs beside `benchpartner`, which yields back at once, for the
/// world-switch figure; vCPU 1 answers IPIs. With `ipi-only` in its boot arguments it measures
/// just the IPI round trip (run on two physical cores).
nonisolated(unsafe) var pongs = 0
nonisolated(unsafe) var latencyTicks: UInt64 = 0
nonisolated(unsafe) var timerFired = false
nonisolated(unsafe) var eoiTicks: UInt64 = 0

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let nsPerTick = 1_000_000_000 / read_cntfrq()
    func instructions(_ ticks: UInt64) -> UInt64 { ticks * nsPerTick }
    func measure(_ body: () -> Void) -> UInt64 {
        let t0 = read_cntvct()
        body()
        return instructions(read_cntvct() - t0)
    }
    func report(_ name: StaticString, _ value: UInt64) { Guest.print("\(name): \(value) instructions") }

    let ipiOnly = Guest.hasBootArgument("ipi-only")
    if !ipiOnly {
        // World switch first, while the partner guest is still yielding back: each of our
        // yields switches to the partner and back, so a round trip is two world switches.
        let switches: UInt64 = 20_000
        let yieldLoop = measure { for _ in 0..<switches { Guest.yield() } }
        report("world_switch_between_guests", yieldLoop / switches / 2)

        let iterations: UInt64 = 100_000
        let empty = measure { _ = bench_empty(iterations) }
        let simple: [(StaticString, UInt64)] = [
            ("hypercall_xen_version", measure { _ = bench_xen_version(iterations) }),
            ("psci_version", measure { _ = bench_psci_version(iterations) }),
            ("mmio_pl011_fr_read", measure { _ = bench_mmio_read(iterations, Guest.uartBase) }),
        ]
        for (name, total) in simple { report(name, (total - min(total, empty)) / iterations) }
        report("grant_copy_4k", measureGrantCopy(measure))
    }

    Interrupts.start(cpu: 0)

    // Virtual IPI round trip: vCPU 0 -> SGI 1 -> vCPU 1 -> SGI 2 -> vCPU 0 (one physical CPU).
    Guest.secondaryMain = { cpu in
        Interrupts.start(cpu: cpu)
        Interrupts.enable(1, cpu: cpu)
        Interrupts.handler = { if $0 == 1 { Interrupts.sendSGI(2, toCPUs: 1) } }
        irq_enable()
        while true { guest_wfi() }
    }
    let stack = UnsafeMutableRawPointer.allocate(byteCount: 16 << 10, alignment: 16)
    _ = Guest.startCPU(1, stackTop: UInt64(UInt(bitPattern: stack)) + (16 << 10))
    while smccc_hvc(0xC400_0004, 1, 0, 0) != 0 { Guest.yield() }
    Interrupts.enable(2, cpu: 0)
    Interrupts.handler = { if $0 == 2 { pongs += 1 } }
    let rounds = 2_000
    irq_enable()
    let ipi = measure {
        for round in 1...rounds {
            Interrupts.sendSGI(1, toCPUs: 1 << 1)
            Guest.waitUntil { pongs >= round }
        }
    }
    irq_disable()
    if ipiOnly {
        report("virtual_ipi_round_trip_two_cores", ipi / UInt64(rounds))
        Guest.shutdown(.poweroff, exitCode: 0)
    }
    report("virtual_ipi_round_trip", ipi / UInt64(rounds))

    // Injection latency: from the virtual timer's deadline to the first instruction of the
    // guest's handler, the vCPU waiting in WFI. Virtual EOI: the guest's ICC_EOIR1_EL1 (GICv2: GICC_EOIR) write.
    Interrupts.enable(InterruptID.virtualTimer, cpu: 0)
    let samples: UInt64 = 500
    Interrupts.handler = { intid in
        guard intid == InterruptID.virtualTimer else { return }
        latencyTicks += read_cntvct() - read_cntv_cval_el0()
        write_cntv_ctl_el0(0)
        timerFired = true
    }
    irq_enable()
    for _ in 0..<samples {
        timerFired = false
        write_cntv_cval_el0(read_cntvct() + 1000)
        write_cntv_ctl_el0(1)
        Guest.waitUntil { timerFired }
    }
    irq_disable()
    report("virtual_interrupt_injection_latency", instructions(latencyTicks) / samples)
    report("virtual_eoi", measureEOI(samples: 2_000, nsPerTick: nsPerTick))
    Guest.shutdown(.poweroff, exitCode: 0)
}

/// Acknowledges and completes self-sent SGIs with IRQs masked, timing only the EOI write
/// (averaged: one counter tick is 16 instructions).
func measureEOI(samples: Int, nsPerTick: UInt64) -> UInt64 {
    Interrupts.enable(3, cpu: 0)
    var total: UInt64 = 0, overhead: UInt64 = 0
    for _ in 0..<samples {
        Interrupts.sendSGI(3, toCPUs: 1)
        var iar: UInt32 = 1023
        while iar & 0x3FF >= 1020 { iar = Interrupts.acknowledge() }
        let t0 = read_cntvct()
        Interrupts.endOfInterrupt(iar)   // ICC_EOIR1_EL1, or GICC_EOIR (the GICV frame) on a GICv2
        total += read_cntvct() - t0
        let t1 = read_cntvct()
        overhead += read_cntvct() - t1
    }
    return (total - min(total, overhead)) * nsPerTick / UInt64(samples)
}

/// GNTTABOP_copy of a whole 4 KiB page from a grant into an own frame: this guest (domain 1,
/// first in bench.toml) grants a page of its RAM to itself with grant frame 0 at the grant
/// window, then copies from that ref (DOMID_SELF) to another of its pages.
func measureGrantCopy(_ measure: (() -> Void) -> UInt64) -> UInt64 {
    let window: UInt64 = 0x3800_0000, source: UInt64 = 0x4040_0000, dest: UInt64 = 0x4040_1000
    let selfID = UInt64(XenDomainID.selfID)
    var add: (UInt64, UInt64, UInt64) = (selfID | 1 << 32, 0, window >> 12)   // XENMAPSPACE_grant_table, idx 0
    guard withUnsafeMutablePointer(to: &add, { xen_hypercall(XenABI.Number.memoryOp.rawValue, 7, UInt64(UInt(bitPattern: $0)), 0) }) == 0
    else { return 0 }
    UnsafeMutablePointer<UInt32>(bitPattern: UInt(window + 8 + 4))!.pointee = UInt32(source >> 12)
    memory_barrier()
    UnsafeMutablePointer<UInt32>(bitPattern: UInt(window + 8))!.pointee = 1 | 1 << 16   // ref 1: permit_access to domain 1
    // struct gnttab_copy: source {ref 1, DOMID_SELF, 0}, dest {gmfn, DOMID_SELF, 0}, len 4096, GNTCOPY_source_gref.
    var op: (UInt64, UInt64, UInt64, UInt64, UInt64) = (1, selfID, dest >> 12, selfID, 4096 | 1 << 16)
    let copies: UInt64 = 2_000
    let total = withUnsafeMutablePointer(to: &op) { p in
        measure { for _ in 0..<copies { _ = xen_hypercall(XenABI.Number.grantTableOp.rawValue, 5, UInt64(UInt(bitPattern: p)), 1) } }
    }
    return op.4 >> 32 & 0xFFFF == 0 ? total / copies : 0   // status GNTST_okay, else no figure
}
