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
        report("evtchn_send_self", measureEventSendToSelf(measure))
        report("evtchn_round_trip_between_guests", measureEventRoundTrip(measure))
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

// MARK: event channels

/// struct evtchn_alloc_unbound / bind_interdomain / send / close, as little-endian u32 words.
typealias EventArgs = (UInt32, UInt32, UInt32, UInt32)
func eventOp(_ command: UInt64, _ args: inout EventArgs) -> Int64 {
    withUnsafeMutablePointer(to: &args) { xen_hypercall(XenABI.Number.eventChannelOp.rawValue, command, UInt64(UInt(bitPattern: $0)), 0) }
}

/// This guest's shared_info (XENMEM_add_to_physmap, XENMAPSPACE_shared_info), mapped once.
nonisolated(unsafe) let sharedInfo: UInt64 = {
    let page = UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)))
    var xatp: (UInt64, UInt64, UInt64) = (UInt64(XenDomainID.selfID), 0, page >> 12)   // space 0: shared_info, idx 0
    let r = withUnsafeMutablePointer(to: &xatp) { xen_hypercall(XenABI.Number.memoryOp.rawValue, 7, UInt64(UInt(bitPattern: $0)), 0) }
    return r == 0 ? page : 0
}()

/// Clears vCPU 0's evtchn_upcall_pending and evtchn_pending_sel and pending word 0 (ports 0-63).
func clearEvents() {
    shared_store8(sharedInfo, 0)
    _ = shared_fetch_and64(sharedInfo + 8, 0)
    _ = shared_fetch_and64(sharedInfo + 48, 0)
}

/// EVTCHNOP_send on a port bound to this guest's own unbound port, the guest clearing
/// evtchn_upcall_pending, evtchn_pending_sel and its pending word after every send: Xen 4.17's
/// figure in shared/PLATFORM.md, measured the same way (less the same loop without the hvc).
func measureEventSendToSelf(_ measure: (() -> Void) -> UInt64) -> UInt64 {
    guard sharedInfo != 0 else { return 0 }
    let me = UInt32(XenDomainID.selfID)
    var alloc: EventArgs = (me | me << 16, 0, 0, 0)
    guard eventOp(6, &alloc) == 0 else { return 0 }                  // EVTCHNOP_alloc_unbound(self, self)
    var bind: EventArgs = (me, alloc.1, 0, 0)
    guard eventOp(0, &bind) == 0 else { return 0 }                   // EVTCHNOP_bind_interdomain(self, that port)
    var send: EventArgs = (bind.2, 0, 0, 0)
    let sends: UInt64 = 20_000
    let (total, loop) = withUnsafeMutablePointer(to: &send) { p in
        let arg = UInt64(UInt(bitPattern: p))
        return (measure { _ = bench_evtchn_send(sends, arg, sharedInfo) }, measure { _ = bench_evtchn_clear_only(sends, arg, sharedInfo) })
    }
    // Both ends closed again: the round trip below starts from a quiet table.
    var close: EventArgs = (bind.2, 0, 0, 0)
    _ = eventOp(3, &close)
    close.0 = alloc.1
    _ = eventOp(3, &close)
    clearEvents()
    return (total - min(total, loop)) / sends
}

/// Rounds of the round trip between guests; benchpartner answers exactly this many.
let eventRounds: UInt64 = 2_000

/// An event to another VM and its answer: benchpartner (domain 2, on the same physical core)
/// offered this guest a port (EVTCHNOP_alloc_unbound: its first free one, after the ports bound
/// to the hypervisor's services) and waits in SCHEDOP_poll; this guest binds it (trying the
/// partner's first ports: only the offered one binds), then each round sends, polls its own port until the partner's answer is pending,
/// and clears it. One round: two sends, two polls that block, two world switches.
func measureEventRoundTrip(_ measure: (() -> Void) -> UInt64) -> UInt64 {
    guard sharedInfo != 0 else { return 0 }
    var candidate: UInt32 = 1
    var bind: EventArgs = (2, candidate, 0, 0)
    var tries = 0
    while eventOp(0, &bind) != 0 {                                   // the partner may not have offered it yet
        tries += 1
        if tries > 100_000 { return 0 }
        candidate = candidate % 8 + 1
        if candidate == 1 { Guest.yield() }
        bind = (2, candidate, 0, 0)
    }
    let port = bind.2
    clearEvents()                                                    // a new interdomain port starts pending
    var send: EventArgs = (port, 0, 0, 0)
    var ports: UInt32 = port
    var rounds: UInt64 = 0
    let total = withUnsafeMutablePointer(to: &send) { s in
        withUnsafeMutablePointer(to: &ports) { p in
            // struct sched_poll: ports, nr_ports 1, no timeout.
            var poll: (UInt64, UInt64, UInt64) = (UInt64(UInt(bitPattern: p)), 1, 0)
            return withUnsafeMutablePointer(to: &poll) { q in
                let sendArg = UInt64(UInt(bitPattern: s)), pollArg = UInt64(UInt(bitPattern: q))
                return measure {
                    for _ in 0..<eventRounds {
                        guard xen_hypercall(XenABI.Number.eventChannelOp.rawValue, 4, sendArg, 0) == 0,
                              xen_hypercall(XenABI.Number.schedOp.rawValue, 3, pollArg, 0) == 0 else { return }
                        clearEvents()
                        rounds += 1
                    }
                }
            }
        }
    }
    return rounds == eventRounds ? total / eventRounds : 0
}
