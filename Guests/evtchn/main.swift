import CGuest
import SwiftvisorCore

/// Xen's event channels, shared_info, vcpu_info, runstate and the sched_op calls that wait for
/// events, with good and bad arguments (docs/xen.md); then, with a second copy of itself (the
/// next guest in the system description), events between two domains. Boot arguments:
/// `first` (domain 1, its peer is domain 2) or `second` (domain 2, its peer is domain 1).

let xen = XenABI.Number.self
let evtchnOp = XenABI.Number.eventChannelOp.rawValue
let domidSelf = UInt64(XenDomainID.selfID)
nonisolated(unsafe) var me: UInt64 = 1
nonisolated(unsafe) var peer: UInt64 = 2

/// One page for the shared_info, one for the vcpu_infos and runstate areas.
nonisolated(unsafe) let sharedInfo = UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)))
nonisolated(unsafe) let scratch = UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)))
var vcpuInfo0: UInt64 { scratch + 64 }
var runstate0: UInt64 { scratch + 512 }

/// Ports the upcall handler found pending (bit n: port n, ports 0-127), and upcalls taken.
nonisolated(unsafe) var received: (UInt64, UInt64) = (0, 0)
nonisolated(unsafe) var upcalls = 0

/// The 2-level upcall, as Linux's xen_evtchn_do_upcall: clear evtchn_upcall_pending, take the
/// selector, then each selected word's pending and unmasked ports (clearing them).
func upcall() {
    upcalls += 1
    let info = vcpuInfoRegistered ? vcpuInfo0 : sharedInfo
    XenEvents.scan(sharedInfo: sharedInfo, vcpuInfo: info) { word, pending in
        if word == 0 { received.0 |= pending } else if word == 1 { received.1 |= pending }
    }
}
nonisolated(unsafe) var vcpuInfoRegistered = false

func got(_ port: UInt64) -> Bool {
    irq_disable(); defer { irq_enable() }
    return port < 64 ? received.0 & (1 << port) != 0 : received.1 & (1 << (port - 64)) != 0
}
func forget(_ port: UInt64) {
    irq_disable(); defer { irq_enable() }
    if port < 64 { received.0 &= ~(1 << port) } else { received.1 &= ~(1 << (port - 64)) }
}
/// Waits (WFI) until `port` arrived, at most about a second.
func waitFor(_ port: UInt64) -> Bool {
    let end = read_cntvct() + read_cntfrq()
    while !got(port) && read_cntvct() < end { Guest.yield() }
    return got(port)
}

/// event_channel_op(cmd, &words): the words are the argument structure, little-endian u32s.
func op(_ cmd: UInt64, _ words: inout (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)) -> Int64 {
    withUnsafeMutablePointer(to: &words) { xen_hypercall(evtchnOp, cmd, UInt64(UInt(bitPattern: $0)), 0) }
}
typealias Args = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
func domids(_ a: UInt64, _ b: UInt64) -> UInt32 { UInt32(a) | UInt32(b) << 16 }

func allocUnbound(dom: UInt64, remote: UInt64) -> (Int64, UInt64) {
    var a: Args = (domids(dom, remote), 0, 0, 0, 0, 0)
    let r = op(6, &a)
    return (r, UInt64(a.1))
}
func bindInterdomain(_ dom: UInt64, _ port: UInt64) -> (Int64, UInt64) {
    var a: Args = (UInt32(dom), UInt32(port), 0, 0, 0, 0)
    let r = op(0, &a)
    return (r, UInt64(a.2))
}
func send(_ port: UInt64) -> Int64 { var a: Args = (UInt32(port), 0, 0, 0, 0, 0); return op(4, &a) }
func close(_ port: UInt64) -> Int64 { var a: Args = (UInt32(port), 0, 0, 0, 0, 0); return op(3, &a) }
func unmask(_ port: UInt64) -> Int64 { var a: Args = (UInt32(port), 0, 0, 0, 0, 0); return op(9, &a) }
/// EVTCHNOP_status: (result, status, vcpu, u's first word, u's second word).
func status(_ dom: UInt64, _ port: UInt64) -> (Int64, UInt32, UInt32, UInt32, UInt32) {
    var a: Args = (UInt32(dom), UInt32(port), 0xEEEE, 0xEEEE, 0, 0)
    let r = op(5, &a)
    return (r, a.2, a.3, a.4, a.5)
}

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    if Guest.hasBootArgument("second") { me = 2; peer = 1 }
    var c = Checks()
    // The /hypervisor node is there unless the guest's `enhanced` key says "disabled" (the boot
    // arguments say which to expect); the hypercalls answer either way.
    if let header = UnsafeRawPointer(bitPattern: UInt(dtb)),
       let size = DeviceTree.totalSize(header: UnsafeRawBufferPointer(start: header, count: 8)),
       let tree = try? DeviceTree(bytes: UnsafeRawBufferPointer(start: header, count: size)) {
        let node = tree.node(path: "/hypervisor")
        if Guest.hasBootArgument("no-xen-node") {
            c.expect("no /hypervisor node (enhanced = \"disabled\")", node == nil)
        } else {
            c.expect("/hypervisor is compatible with xen,xen-4.17", node?.property("compatible")?.containsString("xen,xen-4.17") ?? false)
            c.expect("/hypervisor's interrupt is PPI 15 (INTID 31)", node?.property("interrupts")?.u32(1) == 15)
        }
    }
    Interrupts.start(cpu: 0)
    Interrupts.enable(XenGuestLayout.eventChannelPPI, cpu: 0)
    Interrupts.handler = { if $0 == XenGuestLayout.eventChannelPPI { upcall() } }

    sharedInfoChecks(&c)
    irq_enable()
    vcpuChecks(&c)
    servicePortChecks(&c)
    eventChannelChecks(&c)
    schedChecks(&c)
    twoDomains(&c)
    c.finish()
}

/// XENMEM_add_to_physmap(XENMAPSPACE_shared_info) and the wallclock.
func sharedInfoChecks(_ c: inout Checks) {
    var xatp: (UInt16, UInt16, UInt32, UInt64, UInt64) = (UInt16(domidSelf), 0, 0, 0, sharedInfo >> 12)
    func add() -> Int64 { withUnsafeMutablePointer(to: &xatp) { xen_hypercall(xen.memoryOp.rawValue, 7, UInt64(UInt(bitPattern: $0)), 0) } }
    xatp.3 = 1
    c.expect("add_to_physmap(shared_info, idx 1) -> -EINVAL", add(), -22)
    xatp.3 = 0; xatp.4 = 0x38000
    c.expect("add_to_physmap(shared_info) outside RAM -> -EINVAL", add(), -22)
    xatp.4 = sharedInfo >> 12; xatp.0 = UInt16(peer)
    c.expect("add_to_physmap for the other domain -> -EPERM", add(), -1)
    xatp.0 = 9
    c.expect("add_to_physmap for no domain -> -ESRCH", add(), -3)
    xatp.0 = UInt16(domidSelf); xatp.2 = 4
    c.expect("add_to_physmap(gmfn_foreign) -> -ENOSYS", add(), -38)
    xatp.2 = 5
    c.expect("add_to_physmap(dev_mmio) -> -EACCES", add(), -13)
    xatp.2 = 0
    c.expect("add_to_physmap, unmapped argument -> -EFAULT", xen_hypercall(xen.memoryOp.rawValue, 7, 0x4000_0000 + Guest.memoryBytes, 0), -14)
    c.expect("memory_op(unknown 99) -> -ENOSYS", xen_hypercall(xen.memoryOp.rawValue, 99, 0, 0), -38)
    c.expect("add_to_physmap(shared_info) -> 0", add(), 0)
    c.expect("add_to_physmap(shared_info) again -> -EBUSY", add(), -16)
    let version = shared_load32(sharedInfo + 1072), seconds = shared_load32(sharedInfo + 1076)
    c.expect("wallclock: wc_version even and set", version != 0 && version & 1 == 0)
    c.expect("wallclock: wc_sec after 2023 (the host's real time)", seconds > 1_672_531_200)
    Guest.print("wallclock at boot: \(seconds) s since 1970")
}

/// vcpu_op: register_vcpu_info, register_runstate_memory_area, and what Arm refuses.
func vcpuChecks(_ c: inout Checks) {
    let n = xen.vcpuOp.rawValue
    var info: (UInt64, UInt32, UInt32) = (vcpuInfo0 >> 12, UInt32(vcpuInfo0 & 0xFFF), 0)
    func register(_ vcpu: UInt64) -> Int64 { withUnsafeMutablePointer(to: &info) { xen_hypercall(n, 10, vcpu, UInt64(UInt(bitPattern: $0))) } }
    c.expect("vcpu_op(up) -> -EINVAL on Arm", xen_hypercall(n, 1, 0, 0), -22)
    c.expect("vcpu_op(is_up) -> -EINVAL on Arm", xen_hypercall(n, 3, 0, 0), -22)
    c.expect("vcpu_op on vCPU 7 of 2 -> -ENOENT", register(7), -2)
    info.1 = 4056
    c.expect("register_vcpu_info crossing its page -> -ENXIO", register(0), -6)
    info.1 = 68
    c.expect("register_vcpu_info misaligned -> -ENXIO", register(0), -6)
    info.0 = 0x38000; info.1 = 64
    c.expect("register_vcpu_info outside RAM -> -EINVAL", register(0), -22)
    info.0 = vcpuInfo0 >> 12
    c.expect("register_vcpu_info, unmapped argument -> -EFAULT", xen_hypercall(n, 10, 0, 0x4000_0000 + Guest.memoryBytes), -14)
    let before = upcalls
    irq_disable()
    c.expect("register_vcpu_info(vCPU 0) -> 0", register(0), 0)
    vcpuInfoRegistered = true
    c.expect("a new vcpu_info has every selector bit set", shared_load64(vcpuInfo0 + 8) == ~0)
    irq_enable()
    Guest.waitUntil { upcalls > before }
    c.expect("registering raises the event upcall (PPI 31 taken)", upcalls > before)
    c.expect("register_vcpu_info(vCPU 0) again -> -EINVAL", register(0), -22)
    info.1 = 128
    c.expect("register_vcpu_info for vCPU 1, which is down -> 0", register(1), 0)

    // The runstate area, with XEN_RUNSTATE_UPDATE protocol on.
    c.expect("vm_assist(enable, runstate_update_flag) -> 0", xen_hypercall(xen.vmAssist.rawValue, 0, 5, 0), 0)
    var area = runstate0
    c.expect("register_runstate_memory_area -> 0",
             withUnsafeMutablePointer(to: &area) { xen_hypercall(n, 5, 0, UInt64(UInt(bitPattern: $0))) }, 0)
    for _ in 0..<5 { Guest.yield() }
    let state = shared_load64(runstate0), entry = shared_load64(runstate0 + 8)
    c.expect("runstate: running, entry time set, update flag clear", state == 0 && entry != 0 && entry >> 63 == 0)
}

/// The port the toolstack bound to the hypervisor's console service (HVM_PARAM_CONSOLE_EVTCHN;
/// "no-xenstore": no store port): interdomain to domain 0, not bindable again while held, and
/// closed here so that the checks below start from port 1. A "disabled" guest has none.
func servicePortChecks(_ c: inout Checks) {
    var param: (domid: UInt16, pad: UInt16, index: UInt32, value: UInt64) = (0x7FF0, 0, 18, 0xDEAD)
    let r = withUnsafeMutablePointer(to: &param) { xen_hypercall(xen.hvmOp.rawValue, 1, UInt64(UInt(bitPattern: $0)), 0) }
    if Guest.hasBootArgument("no-xen-node") {
        c.expect("HVM_PARAM_CONSOLE_EVTCHN is 0 (enhanced = \"disabled\")", r == 0 && param.value == 0)
        return
    }
    c.expect("HVM_PARAM_CONSOLE_EVTCHN is port 1", r == 0 && param.value == 1)
    let s = status(domidSelf, 1)
    c.expect("the console's port is interdomain to domain 0, port 2", s.0 == 0 && s.1 == 2 && s.3 & 0xFFFF == 0 && s.4 == 2)
    c.expect("bind_interdomain(0, the console service) while bound -> -EINVAL", bindInterdomain(0, 2).0, -22)
    c.expect("close of the console's port -> 0", close(1), 0)
}

/// Event channels within the domain: bound to itself, IPI, VIRQ, mask, close, status, errors.
func eventChannelChecks(_ c: inout Checks) {
    var (r, unbound) = allocUnbound(dom: domidSelf, remote: domidSelf)
    c.expect("alloc_unbound(self, self) -> 0, port 1", r == 0 && unbound == 1)
    c.expect("alloc_unbound for the other domain -> -EPERM", allocUnbound(dom: peer, remote: me).0, -1)
    c.expect("alloc_unbound for no domain -> -ESRCH", allocUnbound(dom: 9, remote: me).0, -3)
    var local: UInt64
    (r, local) = bindInterdomain(domidSelf, unbound)
    c.expect("bind_interdomain(self, that port) -> 0, port 2", r == 0 && local == 2)
    c.expect("a new interdomain port is pending at once", waitFor(local))
    forget(local)
    c.expect("bind_interdomain to a bound port -> -EINVAL", bindInterdomain(domidSelf, unbound).0, -22)
    c.expect("bind_interdomain to a free port -> -EINVAL", bindInterdomain(domidSelf, 40).0, -22)
    c.expect("bind_interdomain to a port past the table -> -EINVAL", bindInterdomain(domidSelf, 3000).0, -22)
    let s = status(domidSelf, local)
    c.expect("status: interdomain to itself and port 1", s.0 == 0 && s.1 == 2 && s.3 & 0xFFFF == UInt32(me) && s.4 == 1)
    c.expect("send on the bound port -> 0", send(local), 0)
    c.expect("the event arrives on the other end", waitFor(unbound))
    forget(unbound)
    c.expect("send back -> 0", send(unbound), 0)
    c.expect("and arrives too", waitFor(local))
    forget(local)

    // IPI, masked then unmasked.
    var ipi: Args = (0, 0, 0, 0, 0, 0)
    c.expect("bind_ipi(vCPU 0) -> 0", op(7, &ipi), 0)
    let ipiPort = UInt64(ipi.1)
    c.expect("send on the IPI -> 0", send(ipiPort), 0)
    c.expect("the IPI arrives", waitFor(ipiPort))
    forget(ipiPort)
    _ = shared_fetch_or64(sharedInfo + 560, 1 << ipiPort)
    let quiet = upcalls
    c.expect("send on a masked port -> 0", send(ipiPort), 0)
    for _ in 0..<3 { Guest.yield() }
    c.expect("a masked port raises no upcall", upcalls == quiet && shared_load64(sharedInfo + 48) & (1 << ipiPort) != 0)
    c.expect("unmask -> 0", unmask(ipiPort), 0)
    c.expect("unmask delivers what was pending", waitFor(ipiPort))
    forget(ipiPort)
    c.expect("unmask of a port past the table -> -EINVAL", unmask(5000), -22)

    // VIRQs.
    var virq: Args = (0, 0, 0, 0, 0, 0)
    c.expect("bind_virq(VIRQ_TIMER, vCPU 0) -> 0", op(1, &virq), 0)
    let virqPort = UInt64(virq.2)
    virq = (0, 0, 0, 0, 0, 0)
    c.expect("bind_virq(VIRQ_TIMER) again -> -EEXIST", op(1, &virq), -17)
    virq = (2, 1, 0, 0, 0, 0)
    c.expect("bind_virq(VIRQ_CONSOLE, vCPU 1): global -> -EINVAL", op(1, &virq), -22)
    virq = (24, 0, 0, 0, 0, 0)
    c.expect("bind_virq(24) -> -EINVAL", op(1, &virq), -22)
    virq = (0, 9, 0, 0, 0, 0)
    c.expect("bind_virq on vCPU 9 -> -ENOENT", op(1, &virq), -2)
    virq = (2, 0, 0, 0, 0, 0)
    c.expect("bind_virq(VIRQ_CONSOLE, vCPU 0) -> 0", op(1, &virq), 0)
    let st = status(domidSelf, virqPort)
    c.expect("status of the VIRQ port: virq 0 on vCPU 0", st.0 == 0 && st.1 == 4 && st.2 == 0 && st.3 == 0)
    c.expect("send on a VIRQ port -> -EINVAL", send(virqPort), -22)

    // bind_vcpu.
    var bv: Args = (UInt32(ipiPort), 1, 0, 0, 0, 0)
    c.expect("bind_vcpu of an IPI port -> -EINVAL", op(8, &bv), -22)
    bv = (UInt32(local), 9, 0, 0, 0, 0)
    c.expect("bind_vcpu to vCPU 9 -> -ENOENT", op(8, &bv), -2)
    bv = (UInt32(local), 0, 0, 0, 0, 0)
    c.expect("bind_vcpu of an interdomain port -> 0", op(8, &bv), 0)

    // Closing one end leaves the other unbound, offered to this domain.
    c.expect("close -> 0", close(unbound), 0)
    let after = status(domidSelf, local)
    c.expect("the other end is unbound for this domain", after.0 == 0 && after.1 == 1 && after.3 & 0xFFFF == UInt32(me))
    c.expect("send on an unbound port is dropped -> 0", send(local), 0)
    c.expect("close twice -> -EINVAL", close(unbound), -22)
    c.expect("close(0) -> -EINVAL", close(0), -22)
    c.expect("close past the table -> -EINVAL", close(5000), -22)
    c.expect("status of a closed port: closed", status(domidSelf, unbound).1 == 0)
    c.expect("status of the other domain's port -> -EPERM", status(peer, 1).0, -1)
    c.expect("status past the table -> -EINVAL", status(domidSelf, 5000).0, -22)

    // What the 2-level ABI does not have.
    var none: Args = (0, 0, 0, 0, 0, 0)
    c.expect("init_control (FIFO) -> -EOPNOTSUPP", op(11, &none), -95)
    c.expect("expand_array (FIFO) -> -EOPNOTSUPP", op(12, &none), -95)
    none = (UInt32(local), 3, 0, 0, 0, 0)
    c.expect("set_priority -> -ENOSYS", op(13, &none), -38)
    c.expect("bind_pirq -> -EINVAL", op(2, &none), -22)
    c.expect("event_channel_op(99) -> -ENOSYS", op(99, &none), -38)
    c.expect("event_channel_op, unmapped argument -> -EFAULT", xen_hypercall(evtchnOp, 4, 0x4000_0000 + Guest.memoryBytes, 0), -14)

    // reset: every port closed.
    var reset: Args = (UInt32(peer), 0, 0, 0, 0, 0)
    c.expect("reset of the other domain -> -EPERM", op(10, &reset), -1)
    reset = (UInt32(domidSelf), 0, 0, 0, 0, 0)
    c.expect("reset(self) -> 0", op(10, &reset), 0)
    c.expect("after reset every port is closed", status(domidSelf, local).1 == 0 && status(domidSelf, ipiPort).1 == 0)
}

/// sched_op: poll, block, shutdown_code.
func schedChecks(_ c: inout Checks) {
    let n = xen.schedOp.rawValue
    var ipi: Args = (0, 0, 0, 0, 0, 0)
    _ = op(7, &ipi)
    let port = UInt64(ipi.1)
    var ports: (UInt32, UInt32) = (UInt32(port), 0)
    var pollArgs: (UInt64, UInt64, UInt64) = (0, 1, 0)
    func poll() -> Int64 {
        withUnsafeMutablePointer(to: &ports) { p in
            pollArgs.0 = UInt64(UInt(bitPattern: p))
            return withUnsafeMutablePointer(to: &pollArgs) { xen_hypercall(n, 3, UInt64(UInt(bitPattern: $0)), 0) }
        }
    }
    // Masked, so the handler leaves it pending for poll to see.
    _ = shared_fetch_or64(sharedInfo + 560, 1 << port)
    _ = send(port)
    c.expect("poll on a pending port returns at once -> 0", poll(), 0)
    _ = shared_fetch_and64(sharedInfo + 48, ~(1 << port))
    pollArgs.2 = 1   // system time 1 ns: long past
    c.expect("poll with a timeout past -> 0", poll(), 0)
    pollArgs.1 = 129
    c.expect("poll on 129 ports -> -EINVAL", poll(), -22)
    pollArgs.1 = 1; ports.0 = 5000
    c.expect("poll on a port past the table -> -EINVAL", poll(), -22)
    _ = shared_fetch_and64(sharedInfo + 560, ~(1 << port))
    // block enables interrupts and returns once one is pending.
    irq_disable()
    _ = send(port)
    c.expect("block with an event pending -> 0", xen_hypercall(n, 1, 0, 0), 0)
    c.expect("block unmasked interrupts: the upcall ran", got(port))
    forget(port)
    irq_enable()
    var code: UInt32 = 0
    c.expect("shutdown_code(poweroff) -> 0", withUnsafeMutablePointer(to: &code) { xen_hypercall(n, 5, UInt64(UInt(bitPattern: $0)), 0) }, 0)
    var reset: Args = (UInt32(domidSelf), 0, 0, 0, 0, 0)
    _ = op(10, &reset)
}

/// Events between this domain and its peer: each offers a port to the other (after the reset,
/// port 1), binds the other's, and they ping-pong.
func twoDomains(_ c: inout Checks) {
    let (r, offered) = allocUnbound(dom: domidSelf, remote: peer)
    c.expect("alloc_unbound for the peer -> 0, port 1", r == 0 && offered == 1)
    let (r3, other) = allocUnbound(dom: domidSelf, remote: 3)
    c.expect("alloc_unbound for domain 3 -> 0", r3, 0)
    var local: UInt64 = 0, bound: Int64 = -1, tries = 0
    while tries < 100_000 {
        (bound, local) = bindInterdomain(peer, 1)
        if bound == 0 { break }
        Guest.yield(); tries += 1
    }
    c.expect("bind_interdomain(peer, its port 1) -> 0", bound, 0)
    c.expect("bind_interdomain to the peer's port for domain 3 -> -EINVAL", bindInterdomain(peer, other).0, -22)
    c.expect("bind_interdomain to no domain -> -ESRCH", bindInterdomain(9, 1).0, -3)
    // Ping-pong: the first domain sends, the second answers.
    // The new local port is pending (Xen sets it so at bind); the peer may have sent already.
    _ = waitFor(local)
    forget(local)
    var rounds = 0
    for _ in 0..<20 {
        if me == 1 {
            _ = send(local)
            guard waitFor(offered) else { break }
            forget(offered)
        } else {
            guard waitFor(offered) else { break }
            forget(offered)
            _ = send(local)
        }
        rounds += 1
    }
    Guest.print("ping-pong with domain \(peer): \(rounds) of 20 rounds")
    if rounds < 20 {
        let st = status(domidSelf, local), so = status(domidSelf, offered)
        Guest.print("local \(local) status \(st.1) \(st.3) \(st.4); offered \(offered) status \(so.1) \(so.3) \(so.4); pending \(hex(shared_load64(sharedInfo + 48))) mask \(hex(shared_load64(sharedInfo + 560))) sel \(hex(shared_load64(vcpuInfo0 + 8))) up \(hex(shared_load64(vcpuInfo0))) upcalls \(upcalls) received \(hex(received.0))")
    }
    c.expect("20 events each way between the two domains", rounds == 20)
    // The first closes its end; the second sees its port unbound, offered to the first again.
    if me == 1 {
        c.expect("close the bound port -> 0", close(local), 0)
    } else {
        var s = status(domidSelf, offered), n = 0
        while s.1 != 1 && n < 100_000 { Guest.yield(); s = status(domidSelf, offered); n += 1 }
        c.expect("the peer closed: this end is unbound for it", s.1 == 1 && s.3 & 0xFFFF == UInt32(peer))
    }
}
