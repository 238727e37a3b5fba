import XCTest
@testable import SwiftvisorCore

/// Event channels answer every operation as Xen 4.17's event_channel.c does for a domU.
final class EventChannelTests: XCTestCase {
    let one = XenDomainID(rawValue: 1), two = XenDomainID(rawValue: 2), three = XenDomainID(rawValue: 3)
    let me = XenDomainID.selfID

    /// Domains 1 and 2 live (2 vCPUs each), 3 not started.
    func channels() -> EventChannels {
        var c = EventChannels(domainCount: 4)
        c.start(one, vcpus: 2)
        c.start(two, vcpus: 2)
        return c
    }

    func test_alloc_unbound_hands_out_ports_from_1_for_self_only() {
        var c = channels()
        XCTAssertEqual(c.allocUnbound(caller: one, dom: me, remote: 2), .success(1))
        XCTAssertEqual(c.allocUnbound(caller: one, dom: 1, remote: me), .success(2))
        XCTAssertEqual(c.status(caller: one, dom: me, port: 1).map(\.first), .success(2))
        XCTAssertEqual(c.status(caller: one, dom: me, port: 2).map(\.first), .success(1), "DOMID_SELF as remote is the caller")
        XCTAssertEqual(c.allocUnbound(caller: one, dom: 2, remote: 1), .failure(.eperm), "another live domain")
        XCTAssertEqual(c.allocUnbound(caller: one, dom: 3, remote: 1), .failure(.esrch), "a domain not running")
        XCTAssertEqual(c.allocUnbound(caller: one, dom: 0x7FF1, remote: 1), .failure(.esrch), "a reserved ID")
        XCTAssertEqual(c.allocUnbound(caller: one, dom: me, remote: 9), .success(3), "the remote need not exist")
    }

    func test_ports_run_out_at_the_2_level_limit() {
        var c = channels()
        for n in 1..<4096 { XCTAssertEqual(c.allocUnbound(caller: one, dom: me, remote: 2), .success(UInt32(n))) }
        XCTAssertEqual(c.allocUnbound(caller: one, dom: me, remote: 2), .failure(.enospc))
        XCTAssertNil(c.close(caller: one, port: 77))
        XCTAssertEqual(c.bindIPI(caller: one, vcpu: 0), .success(77), "the lowest free port is reused")
    }

    func test_bind_interdomain_needs_a_port_offered_to_the_caller() throws {
        var c = channels()
        let offered = try c.allocUnbound(caller: two, dom: me, remote: 1).get()
        let forThree = try c.allocUnbound(caller: two, dom: me, remote: 3).get()
        XCTAssertEqual(c.bindInterdomain(caller: one, remoteDom: 2, remotePort: forThree).map(\.port), .failure(.einval), "offered to another domain")
        XCTAssertEqual(c.bindInterdomain(caller: one, remoteDom: 2, remotePort: 99).map(\.port), .failure(.einval), "no such port")
        XCTAssertEqual(c.bindInterdomain(caller: one, remoteDom: 2, remotePort: 5000).map(\.port), .failure(.einval), "beyond the table")
        XCTAssertEqual(c.bindInterdomain(caller: one, remoteDom: 3, remotePort: 1).map(\.port), .failure(.esrch), "not running")
        let bound = try c.bindInterdomain(caller: one, remoteDom: 2, remotePort: offered).get()
        XCTAssertEqual(bound.port, 1)
        // Xen sets the new local port pending: a notification may have been lost meanwhile.
        XCTAssertEqual(bound.delivery, .init(domain: one, port: 1, vcpu: 0))
        XCTAssertEqual(c.status(caller: one, dom: me, port: 1), .success(.init(status: 2, vcpu: 0, first: 2, second: offered)))
        XCTAssertEqual(c.status(caller: two, dom: me, port: offered), .success(.init(status: 2, vcpu: 0, first: 1, second: 1)))
        XCTAssertEqual(c.bindInterdomain(caller: one, remoteDom: 2, remotePort: offered).map(\.port), .failure(.einval), "bound already")
        // Sends go to the peer's port, on the vCPU it chose.
        XCTAssertNil(c.bindVCPU(caller: two, port: offered, vcpu: 1))
        XCTAssertEqual(c.send(caller: one, port: 1), .success(.init(domain: two, port: offered, vcpu: 1)))
        XCTAssertEqual(c.send(caller: two, port: offered), .success(.init(domain: one, port: 1, vcpu: 0)))
    }

    func test_closing_either_end_leaves_the_other_unbound_for_the_closer() throws {
        var c = channels()
        let offered = try c.allocUnbound(caller: two, dom: me, remote: 1).get()
        let local = try c.bindInterdomain(caller: one, remoteDom: 2, remotePort: offered).get().port
        XCTAssertNil(c.close(caller: one, port: local))
        XCTAssertEqual(c.status(caller: two, dom: me, port: offered).map(\.status), .success(1))
        XCTAssertEqual(c.status(caller: two, dom: me, port: offered).map(\.first), .success(1))
        XCTAssertEqual(c.status(caller: one, dom: me, port: local).map(\.status), .success(0), "closed")
        XCTAssertEqual(c.send(caller: two, port: offered), .success(nil), "an unbound port drops the event")
        XCTAssertEqual(c.close(caller: one, port: local), .einval, "closed twice")
        XCTAssertEqual(c.close(caller: one, port: 0), .einval, "port 0 is reserved")
        XCTAssertEqual(c.close(caller: one, port: 4095), .einval, "beyond the allocated buckets")
        // The domain can bind again, and the other end can close first too.
        let again = try c.bindInterdomain(caller: one, remoteDom: 2, remotePort: offered).get().port
        XCTAssertNil(c.close(caller: two, port: offered))
        XCTAssertEqual(c.status(caller: one, dom: me, port: again).map(\.first), .success(2))
        XCTAssertEqual(c.status(caller: one, dom: me, port: again).map(\.status), .success(1))
    }

    func test_a_domain_that_ends_leaves_its_peers_ports_unbound() throws {
        var c = channels()
        let offered = try c.allocUnbound(caller: two, dom: me, remote: 1).get()
        _ = try c.bindInterdomain(caller: one, remoteDom: 2, remotePort: offered).get()
        c.destroy(one)
        XCTAssertEqual(c.status(caller: two, dom: me, port: offered).map(\.status), .success(1))
        XCTAssertEqual(c.status(caller: two, dom: 1, port: 1).map(\.status), .failure(.esrch), "it is gone")
        XCTAssertEqual(c.allocUnbound(caller: two, dom: 1, remote: 2), .failure(.esrch))
        // Rebooted: a fresh table, and the peer's port is offered to it again.
        c.start(one, vcpus: 2)
        XCTAssertEqual(c.status(caller: one, dom: me, port: 1).map(\.status), .success(0))
        XCTAssertEqual(c.bindInterdomain(caller: one, remoteDom: 2, remotePort: offered).map(\.port), .success(1))
    }

    func test_bind_to_self_loops_back() throws {
        var c = channels()
        let unbound = try c.allocUnbound(caller: one, dom: me, remote: me).get()
        let local = try c.bindInterdomain(caller: one, remoteDom: me, remotePort: unbound).get().port
        XCTAssertEqual(c.send(caller: one, port: local), .success(.init(domain: one, port: unbound, vcpu: 0)))
        XCTAssertEqual(c.send(caller: one, port: unbound), .success(.init(domain: one, port: local, vcpu: 0)))
        XCTAssertNil(c.close(caller: one, port: unbound))
        XCTAssertEqual(c.status(caller: one, dom: me, port: local).map(\.first), .success(1))
    }

    func test_virqs_global_only_on_vcpu_0_and_once_per_vcpu() {
        var c = channels()
        XCTAssertEqual(c.bindVIRQ(caller: one, virq: 24, vcpu: 0), .failure(.einval), "beyond NR_VIRQS")
        XCTAssertEqual(c.bindVIRQ(caller: one, virq: 2, vcpu: 1), .failure(.einval), "VIRQ_CONSOLE is global")
        XCTAssertEqual(c.bindVIRQ(caller: one, virq: 0, vcpu: 2), .failure(.enoent), "no vCPU 2")
        XCTAssertEqual(c.bindVIRQ(caller: one, virq: 0, vcpu: 1), .success(1), "VIRQ_TIMER is per vCPU")
        XCTAssertEqual(c.bindVIRQ(caller: one, virq: 0, vcpu: 0), .success(2))
        XCTAssertEqual(c.bindVIRQ(caller: one, virq: 0, vcpu: 1), .failure(.eexist))
        XCTAssertEqual(c.bindVIRQ(caller: one, virq: 2, vcpu: 0), .success(3))
        XCTAssertEqual(c.port(virq: 2, vcpu: 1, of: one), 3, "a global VIRQ reaches vCPU 0's port")
        XCTAssertEqual(c.port(virq: 0, vcpu: 1, of: one), 1)
        XCTAssertEqual(c.status(caller: one, dom: me, port: 1), .success(.init(status: 4, vcpu: 1, first: 0)))
        XCTAssertEqual(c.send(caller: one, port: 1), .failure(.einval), "a VIRQ port cannot be sent on")
        XCTAssertEqual(c.bindVCPU(caller: one, port: 1, vcpu: 0), .einval, "a per-vCPU VIRQ stays")
        XCTAssertNil(c.bindVCPU(caller: one, port: 3, vcpu: 1), "a global one may move")
        XCTAssertNil(c.close(caller: one, port: 3))
        XCTAssertNil(c.port(virq: 2, vcpu: 0, of: one))
        XCTAssertEqual(c.bindVIRQ(caller: one, virq: 2, vcpu: 0), .success(3))
    }

    func test_ipis_and_bind_vcpu() {
        var c = channels()
        XCTAssertEqual(c.bindIPI(caller: one, vcpu: 2), .failure(.enoent))
        XCTAssertEqual(c.bindIPI(caller: one, vcpu: 1), .success(1))
        XCTAssertEqual(c.send(caller: one, port: 1), .success(.init(domain: one, port: 1, vcpu: 1)))
        XCTAssertEqual(c.bindVCPU(caller: one, port: 1, vcpu: 0), .einval, "an IPI port keeps its vCPU")
        XCTAssertEqual(c.bindVCPU(caller: one, port: 1, vcpu: 5), .enoent, "the vCPU is checked first")
        XCTAssertEqual(c.bindVCPU(caller: one, port: 63, vcpu: 0), .einval, "free")
        XCTAssertEqual(c.bindVCPU(caller: one, port: 64, vcpu: 0), .einval, "not valid")
        XCTAssertEqual(c.send(caller: one, port: 0), .failure(.einval))
        XCTAssertEqual(c.send(caller: one, port: 2), .failure(.einval))
    }

    func test_status_and_unmask_of_ports_beyond_the_buckets() {
        let c = channels()
        XCTAssertEqual(c.status(caller: one, dom: me, port: 63).map(\.status), .success(0), "in the first bucket: closed")
        XCTAssertEqual(c.status(caller: one, dom: me, port: 64).map(\.status), .failure(.einval))
        XCTAssertEqual(c.status(caller: one, dom: 2, port: 1).map(\.status), .failure(.eperm), "another domain's port")
        XCTAssertEqual(c.status(caller: one, dom: 3, port: 1).map(\.status), .failure(.esrch))
        XCTAssertEqual(c.unmaskTarget(caller: one, port: 63), .success(0))
        XCTAssertEqual(c.unmaskTarget(caller: one, port: 64), .failure(.einval))
    }

    func test_reset_closes_every_port_of_the_caller_only() throws {
        var c = channels()
        let offered = try c.allocUnbound(caller: two, dom: me, remote: 1).get()
        _ = try c.bindInterdomain(caller: one, remoteDom: 2, remotePort: offered).get()
        _ = try c.bindIPI(caller: one, vcpu: 0).get()
        XCTAssertEqual(c.reset(caller: one, dom: 2), .failure(.eperm))
        XCTAssertEqual(c.reset(caller: one, dom: 3), .failure(.esrch))
        XCTAssertEqual(c.reset(caller: one, dom: me, continuing: true), .failure(.ebusy))
        XCTAssertEqual(c.reset(caller: one, dom: 1), .success([1, 2]))
        XCTAssertEqual(c.status(caller: two, dom: me, port: offered).map(\.status), .success(1))
        XCTAssertEqual(c.bindIPI(caller: one, vcpu: 0), .success(1))
    }
}

/// An array of 64-bit words standing for a shared page.
final class Words: SharedWords {
    var words = [UInt64](repeating: 0, count: 512)
    func testAndSet(_ offset: Int, bit: Int) -> Bool { let old = words[offset / 8]; words[offset / 8] |= 1 << UInt64(bit); return old & 1 << UInt64(bit) != 0 }
    func testAndClear(_ offset: Int, bit: Int) -> Bool { let old = words[offset / 8]; words[offset / 8] &= ~(1 << UInt64(bit)); return old & 1 << UInt64(bit) != 0 }
    func test(_ offset: Int, bit: Int) -> Bool { words[offset / 8] & 1 << UInt64(bit) != 0 }
    func store(_ offset: Int, _ value: UInt64) { words[offset / 8] = value }
}

/// The 2-level bits in shared_info and vcpu_info, as event_2l.c sets them.
final class EventChannel2LevelTests: XCTestCase {
    func test_set_pending_marks_port_selector_and_upcall_once() {
        let shared = Words(), info = Words()
        XCTAssertEqual(EventChannel2Level.setPending(70, shared: shared, vcpuInfo: info), .upcall)
        XCTAssertEqual(shared.words[48 / 8 + 1], 1 << 6, "evtchn_pending word 1, bit 6")
        XCTAssertEqual(info.words[1], 1 << 1, "evtchn_pending_sel bit 1")
        XCTAssertEqual(info.words[0], 1, "evtchn_upcall_pending")
        XCTAssertEqual(EventChannel2Level.setPending(70, shared: shared, vcpuInfo: info), .alreadyPending)
        XCTAssertEqual(EventChannel2Level.setPending(71, shared: shared, vcpuInfo: info), .pending, "same selector bit")
        info.words[0] = 0; info.words[1] = 0
        XCTAssertEqual(EventChannel2Level.setPending(5, shared: shared, vcpuInfo: info), .upcall)
    }

    func test_a_masked_port_waits_for_unmask() {
        let shared = Words(), info = Words()
        shared.words[560 / 8] = 1 << 3   // evtchn_mask: port 3
        XCTAssertEqual(EventChannel2Level.setPending(3, shared: shared, vcpuInfo: info), .pending)
        XCTAssertEqual(info.words[0], 0)
        XCTAssertTrue(EventChannel2Level.unmask(3, shared: shared, vcpuInfo: info))
        XCTAssertEqual(info.words[1], 1)
        XCTAssertFalse(EventChannel2Level.unmask(3, shared: shared, vcpuInfo: info), "not masked any more")
    }

    func test_no_vcpu_info_means_pending_but_no_upcall() {
        let shared = Words()
        XCTAssertEqual(EventChannel2Level.setPending(1, shared: shared, vcpuInfo: nil as Words?), .pending)
        XCTAssertTrue(EventChannel2Level.isPending(1, shared: shared))
        EventChannel2Level.clearPending(1, shared: shared)
        XCTAssertFalse(EventChannel2Level.isPending(1, shared: shared))
    }

    func test_vcpu_info_must_fit_its_page_and_be_aligned() {
        let ram = AddressRange(base: GuestMachine.ramBase, size: 16 << 20)
        func place(_ gfn: UInt64, _ offset: UInt32, registered: Bool = false, selfOrDown: Bool = true) -> Result<GuestPhysicalAddress, XenABI.Errno> {
            XenVCPUOp.vcpuInfoPlacement(gfn: gfn, offset: offset, alreadyRegistered: registered, selfOrDown: selfOrDown, ram: ram)
        }
        XCTAssertEqual(place(0x40001, 4048), .success(GuestPhysicalAddress(0x4000_1FD0)))
        XCTAssertEqual(place(0x40001, 4056), .failure(.enxio), "crosses the page")
        XCTAssertEqual(place(0x40001, 4), .failure(.enxio), "misaligned")
        XCTAssertEqual(place(0x40001, 0, registered: true), .failure(.einval))
        XCTAssertEqual(place(0x40001, 0, selfOrDown: false), .failure(.einval))
        XCTAssertEqual(place(0x3FFFF, 0), .failure(.einval), "not RAM")
        XCTAssertEqual(place(0x41000, 0), .failure(.einval), "past RAM")
        // A ballooned-out page (or a grant mapped over one) is refused, as Xen's get_page_from_gfn.
        let hole = XenVCPUOp.vcpuInfoPlacement(gfn: 0x40002, offset: 0, alreadyRegistered: false, selfOrDown: true, ram: ram,
                                               isHole: { $0.rawValue == 0x40002 })
        XCTAssertEqual(hole, .failure(.einval), "a hole")
        XCTAssertEqual(XenVCPUOp.vcpuInfoPlacement(gfn: 0x40003, offset: 0, alreadyRegistered: false, selfOrDown: true, ram: ram,
                                                   isHole: { $0.rawValue == 0x40002 }), .success(GuestPhysicalAddress(0x4000_3000)))
    }

    func test_vcpu_op_allows_two_commands_on_arm() {
        XCTAssertEqual(XenVCPUOp.check(command: 10, vcpu: 0, vcpuCount: 1), .success(.registerVCPUInfo))
        XCTAssertEqual(XenVCPUOp.check(command: 5, vcpu: 0, vcpuCount: 1), .success(.registerRunstateMemoryArea))
        XCTAssertEqual(XenVCPUOp.check(command: 10, vcpu: 1, vcpuCount: 1), .failure(.enoent))
        for command: UInt32 in [0, 1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 99] {
            XCTAssertEqual(XenVCPUOp.check(command: command, vcpu: 0, vcpuCount: 1), .failure(.einval), "\(command)")
        }
    }

    func test_add_to_physmap_checks_and_shared_info_placement() {
        let caller = XenDomainID(rawValue: 1)
        func check(_ domid: UInt16, _ space: UInt32) -> XenABI.Errno? {
            XenMemoryOp.check(.init(domid: domid, space: space, index: 0, gpfn: 0x40010), caller: caller, isLive: { $0.rawValue == 2 })
        }
        XCTAssertNil(check(XenDomainID.selfID, 0))
        XCTAssertNil(check(1, 0))
        XCTAssertEqual(check(2, 0), .eperm)
        XCTAssertEqual(check(3, 0), .esrch)
        XCTAssertEqual(check(XenDomainID.selfID, 4), .enosys, "foreign only through the batch call")
        XCTAssertEqual(check(XenDomainID.selfID, 5), .eacces, "dev_mmio is the hardware domain's")
        let ram = AddressRange(base: GuestMachine.ramBase, size: 16 << 20)
        func place(_ index: UInt64, _ gpfn: UInt64, mapped: UInt64? = nil) -> Result<GuestPhysicalAddress, XenABI.Errno> {
            XenMemoryOp.sharedInfoPlacement(.init(domid: XenDomainID.selfID, space: 0, index: index, gpfn: gpfn), ram: ram, mappedAt: mapped)
        }
        XCTAssertEqual(place(0, 0x40010), .success(GuestPhysicalAddress(0x4001_0000)))
        XCTAssertEqual(place(1, 0x40010), .failure(.einval))
        XCTAssertEqual(place(0, 0x38000), .failure(.einval))
        XCTAssertEqual(place(0, 0x40010, mapped: 0x40020), .failure(.ebusy))
        XCTAssertEqual(XenHypercall.decode(number: 12, x0: 7, x1: 0x1000, x2: 0), .success(.memoryOp(command: 7, argument: 0x1000)))
    }

    func test_runstate_accounts_time_per_state() {
        var r = XenRunstate()
        r.enter(.running, at: 100)
        r.enter(.blocked, at: 250)
        r.enter(.running, at: 300)
        XCTAssertEqual(r.state, .running)
        XCTAssertEqual(r.entryTime, 300)
        XCTAssertEqual(r.time.0, 150); XCTAssertEqual(r.time.2, 50); XCTAssertEqual(r.time.3, 100)
        let b = r.bytes(updating: true)
        XCTAssertEqual(b.count, 48)
        XCTAssertEqual(b[15], 0x80, "XEN_RUNSTATE_UPDATE in state_entry_time")
        XCTAssertEqual(b[8], 44)   // 300 = 0x12C
    }
}

/// The new hypercall numbers decode out of line, as the others do.
final class XenEventCallDecodeTests: XCTestCase {
    func decode(_ n: UInt64, _ x0: UInt64 = 0, _ x1: UInt64 = 0, _ x2: UInt64 = 0) -> Result<XenHypercall, XenABI.Errno> {
        XenHypercall.decode(number: n, x0: x0, x1: x1, x2: x2)
    }

    func test_event_channel_vcpu_memory_and_sched_decode() {
        XCTAssertEqual(decode(32, 4, 0x1000), .success(.eventChannel(.send, argument: 0x1000)))
        XCTAssertEqual(decode(32, 0xFFFF_FFFF_0000_0006, 0x1000), .success(.eventChannel(.allocUnbound, argument: 0x1000)), "int cmd")
        XCTAssertEqual(decode(32, 15), .failure(.enosys))
        XCTAssertEqual(decode(24, 10, 1, 0x2000), .success(.vcpu(command: 10, vcpu: 1, argument: 0x2000)))
        XCTAssertEqual(decode(12, 7, 0x3000), .success(.memoryOp(command: 7, argument: 0x3000)))
        XCTAssertEqual(decode(29, 3, 0x10), .success(.poll(argument: 0x10)))
        XCTAssertEqual(decode(29, 5, 0x10), .success(.shutdownCode(argument: 0x10)))
        XCTAssertEqual(decode(29, 4), .failure(.enosys), "remote_shutdown")
        for n: UInt64 in [12, 24, 32] { XCTAssertNotEqual((XenABI.implementedNumbers >> n) & 1, 0) }
    }
}

/// The /hypervisor node and the `enhanced` key.
final class XenHypervisorNodeTests: XCTestCase {
    func node(_ dtb: [UInt8]) throws -> DeviceTreeNode? {
        try dtb.withUnsafeBytes { try DeviceTree(bytes: $0).node(path: "/hypervisor") }
    }

    func test_node_names_xen_4_17_the_grant_window_regions_and_ppi_31() throws {
        let bytes = GuestMachine.deviceTree(memoryBytes: 256 << 20, vcpus: 2, bootArguments: "", gic: .v2, xen: XenHypervisorNode())
        try bytes.withUnsafeBytes { raw in
            let tree = try DeviceTree(bytes: raw)
            let n = try XCTUnwrap(tree.node(path: "/hypervisor"))
            XCTAssertEqual(n.property("compatible")?.strings, ["xen,xen-4.17", "xen,xen"])
            let reg = try XCTUnwrap(n.property("reg"))
            var cells: [UInt32] = []
            var i = 0
            while let c = reg.u32(i) { cells.append(c); i += 1 }
            func pair(_ k: Int) -> (UInt64, UInt64) {
                (UInt64(cells[4 * k]) << 32 | UInt64(cells[4 * k + 1]), UInt64(cells[4 * k + 2]) << 32 | UInt64(cells[4 * k + 3]))
            }
            XCTAssertEqual(pair(0).0, 0x3800_0000); XCTAssertEqual(pair(0).1, 0x0100_0000)
            // Gaps: below the GIC, between the UART and the grant window, between the magic
            // pages and RAM (96 MiB), above RAM.
            XCTAssertEqual(cells.count / 4, 5)
            XCTAssertEqual(pair(1).0, 0); XCTAssertEqual(pair(1).1, 0x0800_0000)
            XCTAssertEqual(pair(2).0, 0x0A00_0000); XCTAssertEqual(pair(2).1, 0x3800_0000 - 0x0A00_0000)
            XCTAssertEqual(pair(3).0, 0x3A00_0000); XCTAssertEqual(pair(3).1, 0x0600_0000)
            XCTAssertEqual(pair(4).0, 0x5000_0000); XCTAssertEqual(pair(4).1, (1 << 39) - 0x5000_0000)
            // PPI 15 (INTID 31), level-low, both CPUs of a GICv2.
            XCTAssertEqual(n.property("interrupts")?.u32(0), 1)
            XCTAssertEqual(n.property("interrupts")?.u32(1), 15)
            XCTAssertEqual(n.property("interrupts")?.u32(2), 0x308)
        }
        XCTAssertNil(try node(GuestMachine.deviceTree(memoryBytes: 256 << 20, vcpus: 1, bootArguments: "")))
    }

    func test_passed_through_devices_and_small_gaps_are_not_regions() {
        let n = XenHypervisorNode(occupied: [AddressRange(base: GuestPhysicalAddress(0x2000_0000), size: 0x1000)])
        let regions = n.extendedRegions(memoryBytes: 16 << 20)
        XCTAssertEqual(regions.map(\.base.rawValue), [0, 0x0A00_0000, 0x2020_0000, 0x3A00_0000, 0x4100_0000])
        XCTAssertTrue(regions.allSatisfy { $0.size >= 64 << 20 })
    }

    func test_enhanced_travels_in_the_manifest_flags() throws {
        var g = BootManifest.Guest(name: "a", kernel: .init(base: HostPhysicalAddress(0x4000_0000), size: 10), memoryBytes: 16 << 20,
                                   vcpus: 1, commandLine: "", autostart: false)
        for e in XenEnhanced.allCases {
            g.enhanced = e
            let bytes = BootManifest(guests: [g]).encoded
            let back = try bytes.withUnsafeBytes { try BootManifest(bytes: $0) }
            XCTAssertEqual(back.guests[0].enhanced, e)
            XCTAssertFalse(back.guests[0].autostart)
            XCTAssertEqual(XenEnhanced(name: e.name), e)
        }
        XCTAssertNil(XenEnhanced(name: "yes"))
    }
}

/// Domain 0 stands for the hypervisor's services: the guest's ports bound to it at boot.
final class EventChannelServiceTests: XCTestCase {
    let one = XenDomainID(rawValue: 1), two = XenDomainID(rawValue: 2)
    let me = XenDomainID.selfID

    func connected() -> EventChannels {
        var c = EventChannels(domainCount: 2)
        c.start(one, vcpus: 1)
        c.start(two, vcpus: 1)
        XCTAssertEqual(c.connect(.xenstore, to: one), 1, "the store's port first, as libxl allocates it")
        XCTAssertEqual(c.connect(.console, to: one), 2)
        return c
    }

    func test_a_service_port_shows_as_interdomain_to_domain_0() {
        var c = connected()
        let s = c.status(caller: one, dom: me, port: 1)
        XCTAssertEqual(s.map(\.status), .success(2), "EVTCHNSTAT_interdomain")
        XCTAssertEqual(s.map(\.first), .success(0), "domain 0, as dom0's xenstored")
        XCTAssertEqual(s.map(\.second), .success(EventChannels.Service.xenstore.rawValue))
        XCTAssertEqual(c.status(caller: one, dom: me, port: 2).map(\.second), .success(EventChannels.Service.console.rawValue))
        XCTAssertNil(c.connect(.xenstore, to: one), "once per boot")
    }

    func test_send_reaches_the_service_and_the_service_notifies_the_port() {
        var c = connected()
        XCTAssertEqual(c.send(caller: one, port: 1), .success(EventChannels.Delivery(domain: .hypervisor, port: 1, vcpu: 0)))
        XCTAssertEqual(c.send(caller: one, port: 2), .success(EventChannels.Delivery(domain: .hypervisor, port: 2, vcpu: 0)))
        XCTAssertNil(c.bindVCPU(caller: one, port: 1, vcpu: 0))
        XCTAssertEqual(c.notify(.xenstore, of: one), EventChannels.Delivery(domain: one, port: 1, vcpu: 0))
        XCTAssertNil(c.notify(.xenstore, of: two), "never connected")
    }

    func test_no_guest_can_bind_close_or_reset_the_hypervisor_end() {
        var c = connected()
        if case .success = c.bindInterdomain(caller: one, remoteDom: 0, remotePort: 1) { XCTFail("bound while the guest holds it") }
        if case .success = c.bindInterdomain(caller: two, remoteDom: 0, remotePort: 1) { XCTFail("another guest's service") }
        if case .success = c.bindInterdomain(caller: two, remoteDom: 0, remotePort: 99) { XCTFail("no such service") }
        XCTAssertEqual(c.allocUnbound(caller: one, dom: 0, remote: 1), .failure(.eperm))
        XCTAssertEqual(c.status(caller: one, dom: 0, port: 1).map(\.status), .failure(.eperm))
        XCTAssertEqual(c.reset(caller: one, dom: 0), .failure(.eperm))
        XCTAssertEqual(c.port(of: .xenstore, in: one), 1, "untouched")
    }

    func test_closing_its_end_leaves_the_service_waiting_for_the_guest_to_bind_again() throws {
        var c = connected()
        XCTAssertNil(c.close(caller: one, port: 1))
        XCTAssertNil(c.notify(.xenstore, of: one))
        XCTAssertEqual(c.send(caller: one, port: 1), .failure(.einval))
        if case .success = c.bindInterdomain(caller: two, remoteDom: 0, remotePort: 1) { XCTFail("only its own guest") }
        let bound = try c.bindInterdomain(caller: one, remoteDom: 0, remotePort: 1).get()
        XCTAssertEqual(bound.port, 1)
        XCTAssertEqual(c.notify(.xenstore, of: one)?.port, 1)
        // EVTCHNOP_reset closes both; the guest may bind them again.
        XCTAssertEqual(try c.reset(caller: one, dom: me).get(), [1, 2])
        XCTAssertNil(c.port(of: .console, in: one))
        XCTAssertEqual(try c.bindInterdomain(caller: one, remoteDom: 0, remotePort: 2).get().port, 1)
        XCTAssertEqual(c.port(of: .console, in: one), 1)
    }

    func test_a_reboot_connects_afresh() {
        var c = connected()
        c.destroy(one)
        XCTAssertNil(c.notify(.console, of: one))
        c.start(one, vcpus: 1)
        XCTAssertNil(c.port(of: .xenstore, in: one))
        XCTAssertEqual(c.connect(.console, to: one), 1)
        XCTAssertEqual(c.connect(.xenstore, to: one), 2)
    }
}

extension EventChannelTests {
    /// A backend (2) bound to a frontend's (1) port, as netback binds netfront's: the frontend
    /// ends, the backend's port is unbound (remote: the frontend), sends on it do nothing and
    /// succeed, it closes cleanly, and after the frontend's reboot a new channel binds.
    func test_a_backends_port_survives_its_frontends_end_and_a_new_channel_binds_after_the_reboot() throws {
        var c = channels()
        let offered = try c.allocUnbound(caller: one, dom: me, remote: 2).get()
        let backend = try c.bindInterdomain(caller: two, remoteDom: 1, remotePort: offered).get().port
        c.destroy(one)
        XCTAssertEqual(c.status(caller: two, dom: me, port: backend).map(\.status), .success(1), "EVTCHNSTAT_unbound")
        XCTAssertEqual(c.status(caller: two, dom: me, port: backend).map(\.first), .success(1), "remote_domid: the frontend")
        XCTAssertEqual(c.send(caller: two, port: backend), .success(nil), "evtchn_send on ECS_UNBOUND: 0, nothing raised")
        c.start(one, vcpus: 2)
        XCTAssertEqual(c.send(caller: two, port: backend), .success(nil), "nothing reaches the new boot")
        XCTAssertNil(c.close(caller: two, port: backend))
        XCTAssertEqual(c.close(caller: two, port: backend), .einval, "closed already")
        let again = try c.allocUnbound(caller: one, dom: me, remote: 2).get()
        let rebound = try c.bindInterdomain(caller: two, remoteDom: 1, remotePort: again).get()
        XCTAssertEqual(rebound.port, backend, "the backend's lowest free port")
        XCTAssertEqual(c.send(caller: two, port: rebound.port), .success(.init(domain: one, port: again, vcpu: 0)))
        XCTAssertEqual(c.send(caller: one, port: again), .success(.init(domain: two, port: backend, vcpu: 0)))
    }
}
