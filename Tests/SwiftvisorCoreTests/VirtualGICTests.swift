import XCTest
@testable import SwiftvisorCore

final class VirtualGICTests: XCTestCase {
    /// A guest driver's usual set-up: distributor on, private interrupts Group 1 and enabled.
    func configured(vcpus: Int = 2) -> VirtualGIC {
        var g = VirtualGIC(vcpuCount: vcpus)
        _ = g.distributorWrite(offset: 0, value: 0b10)
        for v in 0..<vcpus {
            _ = g.redistributorWrite(vcpu: v, offset: 0x1_0080, value: 0xFFFF_FFFF)
            _ = g.redistributorWrite(vcpu: v, offset: 0x1_0100, value: 0xFFFF_FFFF)
        }
        return g
    }

    func test_identification_registers() {
        let g = VirtualGIC(vcpuCount: 2)
        XCTAssertEqual(g.distributorRead(offset: 0xFFE8) >> 4 & 0xF, 3, "GICv3")
        XCTAssertEqual(g.distributorRead(offset: 0x0004) & 0x1F, 1, "32 SPIs")
        XCTAssertEqual(g.redistributorRead(vcpu: 0, offset: 0x0008) & (1 << 4), 0)
        XCTAssertNotEqual(g.redistributorRead(vcpu: 1, offset: 0x0008) & (1 << 4), 0, "Last")
        XCTAssertEqual(g.redistributorRead(vcpu: 1, offset: 0x000C), 1, "Aff0")
    }

    func test_waker_handshake() {
        var g = VirtualGIC(vcpuCount: 1)
        XCTAssertEqual(g.redistributorRead(vcpu: 0, offset: 0x14), 0b110)
        _ = g.redistributorWrite(vcpu: 0, offset: 0x14, value: 0)
        XCTAssertEqual(g.redistributorRead(vcpu: 0, offset: 0x14), 0)
    }

    func test_enable_and_priority_registers() {
        var g = configured()
        _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0180, value: 1 << 27)
        XCTAssertEqual(g.redistributorRead(vcpu: 0, offset: 0x1_0100) & (1 << 27), 0)
        XCTAssertNotEqual(g.redistributorRead(vcpu: 1, offset: 0x1_0100) & (1 << 27), 0, "banked per vCPU")
        _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0418, value: 0xA0B0_C0D0)
        XCTAssertEqual(g.redistributorRead(vcpu: 0, offset: 0x1_0418), 0xA0B0_C0D0)
        XCTAssertEqual(g.state(27, vcpu: 0)?.priority, 0xA0, "byte 3 of the word at 0x418 is INTID 27")
        _ = g.distributorWrite(offset: 0x0420, value: 0x0000_0088)   // SPI 32 priority
        XCTAssertEqual(g.state(32, vcpu: 0)?.priority, 0x88)
        XCTAssertEqual(g.distributorRead(offset: 0x0400), 0, "private priorities are not in the distributor")
    }

    func test_raise_wakes_only_when_deliverable() {
        var g = configured()
        XCTAssertEqual(g.raise(27, vcpu: 1), 1)
        _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0180, value: 1 << 5)
        XCTAssertNil(g.raise(5, vcpu: 0), "disabled SGI stays pending")
        XCTAssertEqual(g.deliverable(vcpu: 0).map(\.intid), [])
        _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0100, value: 1 << 5)
        XCTAssertEqual(g.deliverable(vcpu: 0).map(\.intid), [5])
    }

    func test_spi_routing() {
        var g = configured()
        _ = g.distributorWrite(offset: 0x0084, value: 1 << 1)        // SPI 33 group 1
        _ = g.distributorWrite(offset: 0x0104, value: 1 << 1)        // enable
        _ = g.distributorWrite64(offset: 0x6100 + 8, value: 1)       // route to vCPU 1
        XCTAssertEqual(g.raise(33, vcpu: 0), 1)
        XCTAssertEqual(g.deliverable(vcpu: 1).map(\.intid), [33])
        XCTAssertEqual(g.deliverable(vcpu: 0).map(\.intid), [])
    }

    func test_list_registers_take_highest_priority_first() {
        var g = configured(vcpus: 1)
        for (intid, priority) in [(1, 0x80), (2, 0x40), (3, 0xC0), (4, 0x20), (5, 0x60), (6, 0xA0)] {
            _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0400 + UInt64(intid), value: 0)
            var word = g.redistributorRead(vcpu: 0, offset: 0x1_0400 + UInt64(intid & ~3))
            word = word & ~(0xFF << UInt32(8 * (intid & 3))) | UInt32(priority) << UInt32(8 * (intid & 3))
            _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0400 + UInt64(intid & ~3), value: word)
            g.raise(UInt32(intid), vcpu: 0)
        }
        var lrs = ListRegisterFile(count: 4)
        XCTAssertTrue(lrs.refresh(&g, vcpu: 0), "two interrupts wait: underflow wanted")
        XCTAssertEqual(Set(lrs.registers.map(\.virtualINTID)), [4, 2, 5, 1])
        // The guest acknowledges and completes two of them.
        lrs.registers[lrs.owners.firstIndex(of: 4)!] = .empty
        lrs.registers[lrs.owners.firstIndex(of: 2)!] = .empty
        XCTAssertFalse(lrs.refresh(&g, vcpu: 0))
        XCTAssertEqual(Set(lrs.registers.map(\.virtualINTID)), [5, 1, 6, 3])
        XCTAssertFalse(g.state(4, vcpu: 0)!.pending || g.state(4, vcpu: 0)!.inListRegister)
    }

    func test_higher_priority_interrupt_evicts_a_pending_one() {
        var g = configured(vcpus: 1)
        _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0400, value: 0x8080_8080)
        _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0404, value: 0x8080_8080)
        for intid in UInt32(1)...4 { g.raise(intid, vcpu: 0) }
        var lrs = ListRegisterFile(count: 4)
        XCTAssertFalse(lrs.refresh(&g, vcpu: 0))
        _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0408, value: 0x10)   // SGI 8 priority 0x10
        g.raise(8, vcpu: 0)
        XCTAssertTrue(lrs.refresh(&g, vcpu: 0), "the evicted interrupt waits: underflow wanted")
        XCTAssertTrue(lrs.registers.contains(.pending(8, priority: 0x10)))
        let evicted = (UInt32(1)...4).filter { g.state($0, vcpu: 0)!.pending && !g.state($0, vcpu: 0)!.inListRegister }
        XCTAssertEqual(evicted.count, 1, "the evicted interrupt is pending again in the model")
        XCTAssertTrue(lrs.hasPending(g, vcpu: 0))
    }

    func test_active_interrupts_are_not_evicted() {
        var g = configured(vcpus: 1)
        var lrs = ListRegisterFile(count: 1)
        _ = g.redistributorWrite(vcpu: 0, offset: 0x1_0400, value: 0x0000_8000)   // SGI 1 at 0x80
        g.raise(1, vcpu: 0)
        _ = lrs.refresh(&g, vcpu: 0)
        lrs.registers[0] = ListRegister(rawValue: lrs.registers[0].rawValue & ~(3 << 62) | 2 << 62)  // guest acked it
        g.raise(2, vcpu: 0)   // priority 0: higher
        XCTAssertTrue(lrs.refresh(&g, vcpu: 0))
        XCTAssertEqual(lrs.registers[0].virtualINTID, 1)
    }

    /// What the guest reads of an interrupt a list register holds follows the LR: pending until
    /// acknowledged, then active and not pending, pending and active when raised again, neither
    /// once completed (IHI0069 4.1.2; kvm-unit-tests' arm/gic.c "active").
    func test_pending_and_active_registers_read_what_the_list_register_shows() {
        var g = configured(vcpus: 1)
        var lrs = ListRegisterFile(count: 4)
        func reads() -> (pending: Bool, active: Bool) {
            lrs.fold(into: &g, vcpu: 0)
            return (g.redistributorRead(vcpu: 0, offset: 0x1_0200) & 1 << 1 != 0, g.redistributorRead(vcpu: 0, offset: 0x1_0300) & 1 << 1 != 0)
        }
        func guestSets(_ state: ListRegister.State) {
            lrs.registers[0] = ListRegister(rawValue: lrs.registers[0].rawValue & ~(3 << 62) | state.rawValue << 62)
        }
        g.raise(1, vcpu: 0)
        XCTAssertTrue(reads() == (true, false), "pending in the model")
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertTrue(reads() == (true, false), "pending in the LR")
        guestSets(.active)                      // acknowledged
        XCTAssertTrue(reads() == (false, true), "active, no longer pending, in its handler")
        guestSets(.pendingAndActive)            // sent again while handled
        XCTAssertTrue(reads() == (true, true))
        guestSets(.invalid)                     // completed
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertTrue(reads() == (false, false))
        // The same through a GICv2's banked GICD_ISPENDR0/ISACTIVER0.
        var v2 = VirtualGIC(vcpuCount: 1, version: .v2)
        var lrs2 = ListRegisterFile(count: 4)
        _ = v2.gicv2DistributorAccess(vcpu: 0, MMIOAccess(offset: 0x100, width: 4, isWrite: true, value: 0xFFFF))   // enable SGIs
        _ = v2.gicv2DistributorAccess(vcpu: 0, MMIOAccess(offset: 0, width: 4, isWrite: true, value: 1))
        v2.raise(3, vcpu: 0)
        _ = lrs2.refresh(&v2, vcpu: 0)
        lrs2.registers[0] = ListRegister(rawValue: lrs2.registers[0].rawValue & ~(3 << 62) | ListRegister.State.active.rawValue << 62)
        lrs2.fold(into: &v2, vcpu: 0)
        XCTAssertEqual(v2.gicv2DistributorRead(vcpu: 0, offset: 0x200) & 1 << 3, 0, "GICv2: not pending once acknowledged")
        XCTAssertNotEqual(v2.gicv2DistributorRead(vcpu: 0, offset: 0x300) & 1 << 3, 0, "GICv2: active")
    }

    func test_raising_again_while_pending_in_an_lr_coalesces() {
        var g = configured(vcpus: 1)
        var lrs = ListRegisterFile(count: 4)
        XCTAssertEqual(g.raise(27, vcpu: 0), 0)
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertEqual(g.raise(27, vcpu: 0), 0, "still wakes the vCPU")
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertEqual(lrs.inUseMask, 0b1)
        XCTAssertFalse(g.state(27, vcpu: 0)!.pending, "one pending state, held by the LR")
    }

    func test_raised_again_after_the_guest_completed_it() {
        var g = configured(vcpus: 1)
        var lrs = ListRegisterFile(count: 4)
        g.raise(27, vcpu: 0)
        _ = lrs.refresh(&g, vcpu: 0)
        lrs.registers[0] = .empty          // the guest acknowledged and completed it
        XCTAssertEqual(g.raise(27, vcpu: 0), 0)
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertEqual(lrs.registers[0], .pending(27, priority: 0))
    }

    func test_passthrough_spi_asks_to_be_told_of_completion() {
        var g = configured(vcpus: 1)
        g.markPassthrough(34)
        _ = g.distributorWrite(offset: 0x0084, value: 1 << 2)   // SPI 34: Group 1
        _ = g.distributorWrite(offset: 0x0104, value: 1 << 2)   // enabled
        var lrs = ListRegisterFile(count: 4)
        XCTAssertEqual(g.raise(34, vcpu: 0), 0)
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertEqual(lrs.registers[0].rawValue >> 41 & 1, 1, "ICH_LR.EOI set")
        XCTAssertEqual(lrs.completedPassthrough, 0)
        lrs.registers[0] = .empty                                // the guest completed it
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertEqual(lrs.completedPassthrough, 1 << 2)
    }

    func test_iomem_entries() {
        XCTAssertEqual(SystemDescription.DeviceMemory("0x9010,1"), .init(pageFrame: 0x9010, pages: 1))
        XCTAssertEqual(SystemDescription.DeviceMemory("9030,2"), .init(pageFrame: 0x9030, pages: 2))
        XCTAssertNil(SystemDescription.DeviceMemory("0x9010"))
        var g = SystemDescription.Guest(name: "a", kernel: "k", memoryMiB: 8)
        g.iomem = [.init(pageFrame: 0x9000, pages: 1)]      // the UART
        g.irqs = [20]
        XCTAssertEqual(SystemDescription(guests: [g]).problems().map(\.key), ["iomem", "irqs"])
    }

    func test_sgi_targets() {
        // TargetList {1, 2}, INTID 3.
        XCTAssertEqual(SGIRequest(3 << 24 | 0b110).targets(sender: 0, vcpuCount: 4), [1, 2])
        XCTAssertEqual(SGIRequest(1 << 40 | 5 << 24).targets(sender: 1, vcpuCount: 3), [0, 2])
        XCTAssertEqual(SGIRequest(5 << 24 | 0b1).intid, 5)
        XCTAssertEqual(SGIRequest(1 << 16 | 1).targets(sender: 0, vcpuCount: 4), [], "Aff1 = 1: no such vCPU")
        XCTAssertEqual(SGIRequest(3 << 24 | 0b110).targetMask(sender: 0, vcpuCount: 2), 0b10, "a guest of 2 has no vCPU 2")
        XCTAssertEqual(SGIRequest(1 << 40 | 5 << 24).targetMask(sender: 1, vcpuCount: 3), 0b101)
    }
}

final class EmulatedTimerTests: XCTestCase {
    func test_timer_value_counts_down_and_fires_once() {
        var t = EmulatedTimer()
        t.write(.timerValue, 100, now: 1000)
        XCTAssertEqual(t.read(.compareValue, now: 1000), 1100)
        XCTAssertEqual(t.read(.timerValue, now: 1050), 50)
        XCTAssertNil(t.deadline, "disabled")
        t.write(.control, 1, now: 1050)
        XCTAssertEqual(t.deadline, 1100)
        XCTAssertFalse(t.fire(now: 1099))
        XCTAssertTrue(t.fire(now: 1100))
        XCTAssertFalse(t.fire(now: 1200), "level interrupt raised once per programming")
        XCTAssertEqual(t.read(.control, now: 1200), 0b101, "ISTATUS")
        t.write(.control, 0b11, now: 1200)
        XCTAssertNil(t.deadline, "masked")
    }

    func test_negative_timer_value() {
        var t = EmulatedTimer()
        t.write(.timerValue, 0xFFFF_FFF0, now: 1000)   // -16
        XCTAssertEqual(t.read(.compareValue, now: 1000), 984)
    }

    func test_register_decoding() {
        let iss: UInt64 = 3 << 20 | 1 << 17 | 3 << 14 | 14 << 10 | 2 << 1   // CNTP_CTL_EL0, write
        XCTAssertEqual(EmulatedTimer.register(SystemRegisterAccess(esr: ESR(exceptionClass: .systemRegister64, iss: iss))), .control)
    }
}
