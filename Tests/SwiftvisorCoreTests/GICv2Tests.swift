import XCTest
@testable import SwiftvisorCore

/// The list-register file over the GICv2 GICH_LR encoding and the emulated GICv2 distributor.
final class GICv2ListRegisterTests: XCTestCase {
    func test_pending_interrupt_encodes_as_gich_lr() {
        // SPI 33, priority 0xA0 (top five bits 0b10100), Group 0, pending, EOI asked for.
        let lr = ListRegister.pending(33, priority: 0xA0, group1: false, notifyOnCompletion: true)
        XCTAssertEqual(lr.gicv2, 1 << 28 | 0b10100 << 23 | 1 << 19 | 33)
        // Group 1, no EOI, SGI 5 at priority 0.
        XCTAssertEqual(ListRegister.pending(5, priority: 0).gicv2, 1 << 30 | 1 << 28 | 5)
    }

    func test_gich_lr_decodes_to_the_same_list_register() {
        for lr in [ListRegister.pending(27, priority: 0xF8), .pending(1019, priority: 0x08, group1: false, notifyOnCompletion: true),
                   .pending(0, priority: 0x80, notifyOnCompletion: false), .empty] {
            XCTAssertEqual(ListRegister(gicv2: lr.gicv2), lr)
        }
        // The guest took it: State becomes active (10) in bits 29:28.
        let active = ListRegister(gicv2: 2 << 28 | 1 << 30 | 0x10 << 23 | 40)
        XCTAssertEqual(active.state, .active)
        XCTAssertEqual(active.virtualINTID, 40)
        XCTAssertEqual(active.priority, 0x80)
        XCTAssertTrue(active.group1)
        XCTAssertEqual(ListRegister(gicv2: 3 << 28 | 7).state, .pendingAndActive)
    }

    func test_hardware_interrupt_keeps_its_physical_id() {
        let lr = ListRegister(gicv2: 1 << 31 | 1 << 28 | 27 << 10 | 27)
        XCTAssertTrue(lr.hardware)
        XCTAssertFalse(lr.notifiesOnCompletion, "bit 19 is part of the PhysicalID when HW = 1")
        XCTAssertEqual(lr.gicv2, 1 << 31 | 1 << 28 | 27 << 10 | 27)
    }

    func test_file_loads_a_gicv2_guests_group_0_interrupts() {
        var g = GICv2DistributorTests.configured(vcpus: 1)
        var lrs = ListRegisterFile(count: 4)
        XCTAssertEqual(g.raise(27, vcpu: 0), 0)
        XCTAssertFalse(lrs.refresh(&g, vcpu: 0))
        XCTAssertEqual(lrs.registers[0].gicv2, 1 << 28 | 0x14 << 23 | 27, "Group 0 (IGROUPR reset), priority 0xA0, pending")
        // The guest acknowledged and completed it: the hardware shows the LR invalid.
        lrs.registers[0] = ListRegister(gicv2: 0)
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertEqual(lrs.inUseMask, 0)
        XCTAssertEqual(g.state(27, vcpu: 0)?.inListRegister, false)
    }
}

final class GICv2DistributorTests: XCTestCase {
    /// Linux's GICv2 set-up: distributor on (EnableGrp0), everything Group 0, private
    /// interrupts enabled with priority 0xA0 by each vCPU.
    static func configured(vcpus: Int = 2) -> VirtualGIC {
        var g = VirtualGIC(vcpuCount: vcpus, version: .v2)
        _ = g.gicv2DistributorWrite(vcpu: 0, offset: 0x000, value: 1)
        for v in 0..<vcpus {
            _ = g.gicv2DistributorWrite(vcpu: v, offset: 0x100, value: 0xFFFF_FFFF)
            for word in 0..<8 { _ = g.gicv2DistributorWrite(vcpu: v, offset: 0x400 + 4 * UInt64(word), value: 0xA0A0_A0A0) }
        }
        return g
    }

    func read(_ g: inout VirtualGIC, vcpu: Int = 0, _ offset: UInt64, width: Int = 4) -> UInt64 {
        let a = MMIOAccess(offset: offset, width: width, isWrite: false)
        return a.loadedValue(g.gicv2DistributorAccess(vcpu: vcpu, a).read)
    }

    @discardableResult
    func write(_ g: inout VirtualGIC, vcpu: Int = 0, _ offset: UInt64, _ value: UInt64, width: Int = 4) -> VirtualGIC.Effect {
        g.gicv2DistributorAccess(vcpu: vcpu, MMIOAccess(offset: offset, width: width, isWrite: true, value: value)).effect
    }

    func test_identification_registers() {
        var g = VirtualGIC(vcpuCount: 3, version: .v2)
        XCTAssertEqual(read(&g, 0xFE8) >> 4 & 0xF, 2, "GICD_PIDR2.ArchRev: GICv2")
        XCTAssertEqual(read(&g, 0xFFE8), 0, "no GICv3 PIDR2")
        let typer = read(&g, 0x004)
        XCTAssertEqual(typer & 0x1F, 1, "ITLinesNumber: 64 interrupts")
        XCTAssertEqual(typer >> 5 & 0x7, 2, "CPUNumber: 3 CPUs")
        XCTAssertEqual(typer >> 10 & 1, 0, "no Security Extensions")
        XCTAssertEqual(read(&g, 0x008), 0x0076_743B, "GICD_IIDR")
    }

    func test_ctlr_enables_each_group() {
        var g = VirtualGIC(vcpuCount: 1, version: .v2)
        write(&g, 0x000, 0b11)
        XCTAssertEqual(read(&g, 0x000), 0b11)
        XCTAssertTrue(g.group0Enabled)
        XCTAssertTrue(g.group1Enabled)
        write(&g, 0x000, 0)
        XCTAssertFalse(g.group0Enabled)
        XCTAssertNil(g.raise(0, vcpu: 0), "distributor off: nothing forwarded")
    }

    func test_private_registers_are_banked_per_vcpu() {
        var g = Self.configured()
        write(&g, vcpu: 0, 0x180, 1 << 27)                     // vCPU 0 disables its PPI 27
        XCTAssertEqual(read(&g, vcpu: 0, 0x100) & 1 << 27, 0)
        XCTAssertNotEqual(read(&g, vcpu: 1, 0x100) & 1 << 27, 0, "vCPU 1's PPI 27 still enabled")
        write(&g, vcpu: 1, 0x41B, 0x40, width: 1)               // byte: vCPU 1's INTID 27 priority
        XCTAssertEqual(g.state(27, vcpu: 1)?.priority, 0x40)
        XCTAssertEqual(g.state(27, vcpu: 0)?.priority, 0xA0)
        XCTAssertEqual(read(&g, vcpu: 1, 0x41B, width: 1), 0x40)
        XCTAssertEqual(read(&g, vcpu: 1, 0x418), 0x40A0_A0A0)
    }

    func test_itargetsr_reads_own_cpu_for_private_interrupts() {
        var g = Self.configured(vcpus: 3)
        XCTAssertEqual(read(&g, vcpu: 0, 0x800), 0x0101_0101)
        XCTAssertEqual(read(&g, vcpu: 2, 0x81C), 0x0404_0404)
        XCTAssertEqual(read(&g, vcpu: 1, 0x803, width: 1), 0x02)
    }

    func test_spi_goes_to_the_vcpu_itargetsr_names() {
        var g = Self.configured()
        write(&g, 0x104, 1 << 1)                               // enable SPI 33
        write(&g, 0x821, 0x02, width: 1)                       // ITARGETSR byte of SPI 33: CPU 1
        XCTAssertEqual(read(&g, 0x820), 0x0101_0201, "SPIs 32, 34, 35 still on CPU 0 (reset), 33 on CPU 1")
        XCTAssertEqual(g.raise(33, vcpu: 0), 1)
        XCTAssertEqual(g.deliverable(vcpu: 1).map(\.intid), [33])
        XCTAssertEqual(g.deliverable(vcpu: 0).map(\.intid), [])
        write(&g, 0x821, 0x00, width: 1)                       // no target: forwarded nowhere
        XCTAssertEqual(g.deliverable(vcpu: 1).map(\.intid), [])
        XCTAssertNil(g.raise(33, vcpu: 0))
        write(&g, 0x821, 0xF6, width: 1)                       // CPUs 1, 2, 4-7 of a 2-vCPU guest
        XCTAssertEqual(read(&g, 0x821, width: 1), 0x02, "only existing CPUs are kept")
    }

    func test_sgir_target_list_and_filters() {
        var g = Self.configured(vcpus: 3)
        var e = write(&g, vcpu: 0, 0xF00, 0b110 << 16 | 3)     // SGI 3 to CPUs 1 and 2
        XCTAssertEqual(e.kick, [1, 2])
        XCTAssertEqual(g.deliverable(vcpu: 1).map(\.intid), [3])
        XCTAssertEqual(g.deliverable(vcpu: 0).map(\.intid), [])
        e = write(&g, vcpu: 1, 0xF00, 1 << 24 | 5)             // all but self
        XCTAssertEqual(e.kick, [0, 2])
        e = write(&g, vcpu: 2, 0xF00, 2 << 24 | 0xFF << 16 | 7) // self only, target list ignored
        XCTAssertEqual(e.kick, [2])
        XCTAssertEqual(g.deliverable(vcpu: 2).map(\.intid), [3, 5, 7])
        XCTAssertEqual(read(&g, 0xF00), 0, "write-only")
    }

    func test_bad_widths_are_ignored() {
        var g = Self.configured()
        write(&g, 0x100, 0xFF, width: 1)                       // a byte of ISENABLER: bad width
        XCTAssertEqual(read(&g, 0x100) & 0xFF00_0000, 0xFF00_0000)
        XCTAssertEqual(read(&g, 0x104), 0, "SPIs untouched")
        XCTAssertEqual(read(&g, 0x000, width: 2), 0, "halfwords RAZ")
    }

    func test_configuration_registers_banked_and_sgis_fixed() {
        var g = Self.configured()
        write(&g, vcpu: 1, 0xC04, 0xFFFF_FFFF)                 // ICFGR1: PPIs edge (vCPU 1)
        XCTAssertEqual(g.state(27, vcpu: 1)?.edgeTriggered, true)
        XCTAssertEqual(g.state(27, vcpu: 0)?.edgeTriggered, false)
        write(&g, 0xC00, 0)                                     // ICFGR0: SGIs stay edge
        XCTAssertEqual(g.state(0, vcpu: 0)?.edgeTriggered, true)
        write(&g, 0xC08, 0x8)                                   // ICFGR2: SPI 33 edge
        XCTAssertEqual(g.state(33, vcpu: 0)?.edgeTriggered, true)
    }
}
