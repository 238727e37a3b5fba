import XCTest
@testable import SwiftvisorCore

/// The device path: width and sign rules (`MMIOAccess`), the registry (`EmulatedDevice.at`),
/// and the devices' width handling.
final class MMIOAccessTests: XCTestCase {
    // ESR values of real loads and stores (EC 0x24, ISV=1; SAS 23:22, SSE 21, SRT 20:16, SF 15, WnR 6).
    func abort(_ esr: UInt64) -> DataAbort { DataAbort(esr: ESR(rawValue: esr), far: 0, hpfar: 0) }

    func test_word_load_into_w_register_takes_the_low_word() {
        // LDR w3: SAS=word, SRT=3, SF=0.
        let a = MMIOAccess(abort(0x9383_0007), offset: 0x18, registerValue: 0)
        XCTAssertEqual(a.width, 4); XCTAssertEqual(a.register, 3); XCTAssertFalse(a.isWrite)
        XCTAssertEqual(a.loadedValue(0xDEAD_BEEF_8000_0090), 0x8000_0090)
    }

    func test_unsigned_byte_load_zero_extends() {
        // LDRB w0.
        let a = MMIOAccess(abort(0x9300_0007), offset: 0, registerValue: 0)
        XCTAssertEqual(a.loadedValue(0x1FF), 0xFF)
    }

    func test_sign_extending_word_load_into_x_register() {
        // LDRSW x0: SAS=word, SSE=1, SF=1.
        let a = MMIOAccess(abort(0x93A0_8007), offset: 0, registerValue: 0)
        XCTAssertEqual(a.loadedValue(0x8000_0000), 0xFFFF_FFFF_8000_0000)
        XCTAssertEqual(a.loadedValue(0x7FFF_FFFF), 0x7FFF_FFFF)
    }

    func test_doubleword_load_is_whole() {
        // LDR x0: SAS=doubleword, SF=1.
        let a = MMIOAccess(abort(0x93C0_8007), offset: 0, registerValue: 0)
        XCTAssertEqual(a.width, 8)
        XCTAssertEqual(a.loadedValue(0xFFFF_0000_1234_5678), 0xFFFF_0000_1234_5678)
    }

    func test_store_carries_only_its_width() {
        // STRH w5: SAS=halfword, SRT=5, WnR=1.
        let a = MMIOAccess(abort(0x9345_0047), offset: 2, registerValue: 0xAAAA_1234_5678)
        XCTAssertTrue(a.isWrite)
        XCTAssertEqual(a.value, 0x5678)
    }

    func test_sub_word_store_replaces_its_bytes_of_the_word() {
        let a = MMIOAccess(offset: 0x402, width: 1, isWrite: true, value: 0xAB)
        XCTAssertEqual(a.wordOffset, 0x400)
        XCTAssertEqual(a.merged(into: 0x1122_3344), 0x11AB_3344)
        let h = MMIOAccess(offset: 0x402, width: 2, isWrite: true, value: 0xBEEF)
        XCTAssertEqual(h.merged(into: 0x1122_3344), 0xBEEF_3344)
    }

    func test_sub_word_load_sees_its_bytes_of_the_word() {
        let a = MMIOAccess(offset: 0x19, width: 1, isWrite: false)
        XCTAssertEqual(a.loadedValue(a.lanes(of: 0x0000_9080)), 0x90)
    }

    func test_access_widths() {
        let wordOrWider = AccessWidths.word.union(.doubleword)
        XCTAssertTrue(wordOrWider.allows(4)); XCTAssertTrue(wordOrWider.allows(8))
        XCTAssertFalse(wordOrWider.allows(1)); XCTAssertFalse(wordOrWider.allows(2))
        XCTAssertTrue(AccessWidths.all.allows(1))
        XCTAssertFalse(AccessWidths.all.allows(16))
    }

    // MARK: Registry

    func test_registry_finds_each_device_and_its_offset() {
        let uart = EmulatedDevice.at(GuestPhysicalAddress(0x0900_0018), layout: virt, vcpus: 2)
        XCTAssertEqual(uart?.device, .uart); XCTAssertEqual(uart?.offset, 0x18)
        let gicd = EmulatedDevice.at(GuestPhysicalAddress(0x0800_0104), layout: virt, vcpus: 2)
        XCTAssertEqual(gicd?.device, .gicDistributor); XCTAssertEqual(gicd?.offset, 0x104)
        // The second vCPU's SGI_base frame: redistributor base + stride + 64 KiB.
        let gicr = EmulatedDevice.at(GuestPhysicalAddress(0x080A_0000 + 0x2_0000 + 0x1_0100), layout: virt, vcpus: 2)
        XCTAssertEqual(gicr?.device, .gicRedistributor(frame: 1)); XCTAssertEqual(gicr?.offset, 0x1_0100)
    }

    func test_registry_ends_at_each_range_and_at_the_last_redistributor() {
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x0900_1000), layout: virt, vcpus: 1))
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x0801_0000), layout: virt, vcpus: 1))
        XCTAssertNotNil(EmulatedDevice.at(GuestPhysicalAddress(0x080A_0000 + 0x1_FFFC), layout: virt, vcpus: 1))
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x080A_0000 + 0x2_0000), layout: virt, vcpus: 1))
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x4000_0000), layout: virt, vcpus: 1))
    }

    let virt = GuestLayout(.virt, gic: .v3)

    func test_registry_of_the_xen_layout_finds_xens_places() {
        let xen = GuestLayout(.xen, gic: .v3)
        let uart = EmulatedDevice.at(GuestPhysicalAddress(0x2200_0018), layout: xen, vcpus: 2)
        XCTAssertEqual(uart?.device, .uart); XCTAssertEqual(uart?.offset, 0x18)
        let gicd = EmulatedDevice.at(GuestPhysicalAddress(0x0300_1000 + 0xFFE8), layout: xen, vcpus: 2)
        XCTAssertEqual(gicd?.device, .gicDistributor); XCTAssertEqual(gicd?.offset, 0xFFE8)
        let gicr = EmulatedDevice.at(GuestPhysicalAddress(0x0302_0000 + 0x2_0000 + 0x8), layout: xen, vcpus: 2)
        XCTAssertEqual(gicr?.device, .gicRedistributor(frame: 1)); XCTAssertEqual(gicr?.offset, 0x8)
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x0302_0000 + 0x4_0000), layout: xen, vcpus: 2))
        // Nothing answers at the virt layout's places.
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x0900_0018), layout: xen, vcpus: 2))
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x0800_0000), layout: xen, vcpus: 2))
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x080A_0000), layout: xen, vcpus: 2))
        // A GICv2 distributor is one page: GICC (the hardware's GICV, mapped) follows at 0x03002000.
        let v2 = GuestLayout(.xen, gic: .v2)
        XCTAssertEqual(EmulatedDevice.at(GuestPhysicalAddress(0x0300_1FE8), layout: v2, vcpus: 2)?.offset, 0xFE8)
        XCTAssertNil(EmulatedDevice.at(GuestPhysicalAddress(0x0300_2000), layout: v2, vcpus: 2))
        XCTAssertEqual(v2.gicCPUInterface, AddressRange(base: GuestPhysicalAddress(0x0300_2000), size: 0x2000))
    }

    // MARK: Devices' width handling

    func test_pl011_byte_read_of_flags_and_word_write_of_data() {
        var uart = PL011()
        let fr = uart.access(MMIOAccess(offset: 0x18, width: 1, isWrite: false))
        XCTAssertEqual(fr.read & 0xFF, 0x90)   // TXFE | RXFE
        let dr = uart.access(MMIOAccess(offset: 0, width: 4, isWrite: true, value: 0x141))
        XCTAssertEqual(dr.transmitted, 0x41)
        XCTAssertEqual(uart.access(MMIOAccess(offset: 0x38, width: 2, isWrite: true, value: 0x10)).transmitted, nil)
        XCTAssertEqual(uart.imsc, 0x10)
    }

    func test_gic_priority_byte_write_changes_one_interrupt() {
        var gic = VirtualGIC(vcpuCount: 1)
        // GICD_IPRIORITYR8 byte 1: SPI 33.
        _ = gic.distributorAccess(MMIOAccess(offset: 0x421, width: 1, isWrite: true, value: 0xA0))
        let word = gic.distributorAccess(MMIOAccess(offset: 0x420, width: 4, isWrite: false)).read
        XCTAssertEqual(word & 0xFF00, 0xA000)
        XCTAssertEqual(word & 0xFF, 0)
        let byte = MMIOAccess(offset: 0x421, width: 1, isWrite: false)
        XCTAssertEqual(byte.loadedValue(gic.distributorAccess(byte).read), 0xA0)
    }

    func test_gic_bad_width_reads_zero_and_ignores_writes() {
        var gic = VirtualGIC(vcpuCount: 1)
        // A byte of GICD_CTLR: not architected.
        XCTAssertEqual(gic.distributorAccess(MMIOAccess(offset: 0, width: 1, isWrite: false)).read, 0)
        let before = gic.distributorAccess(MMIOAccess(offset: 0, width: 4, isWrite: false)).read
        _ = gic.distributorAccess(MMIOAccess(offset: 0, width: 1, isWrite: true, value: 0x2))
        XCTAssertEqual(gic.distributorAccess(MMIOAccess(offset: 0, width: 4, isWrite: false)).read, before)
        XCTAssertEqual(VirtualGIC.accessWidths(offset: 0x1_0400, redistributor: true), .all)
        XCTAssertEqual(VirtualGIC.accessWidths(offset: 0x1_0100, redistributor: true), AccessWidths.word.union(.doubleword))
    }

    func test_gic_doubleword_write_of_irouter_routes_the_spi() {
        var gic = VirtualGIC(vcpuCount: 2)
        // GICD_IROUTER33 (SPI 33 = index 1): Aff0 = 1.
        _ = gic.distributorAccess(MMIOAccess(offset: 0x6108, width: 8, isWrite: true, value: 1))
        XCTAssertEqual(gic.distributorAccess(MMIOAccess(offset: 0x6108, width: 8, isWrite: false)).read, 1)
        XCTAssertEqual(gic.distributorAccess(MMIOAccess(offset: 0x6108, width: 4, isWrite: false)).read, 1)
        XCTAssertEqual(gic.distributorAccess(MMIOAccess(offset: 0x610C, width: 4, isWrite: false)).read, 0)
    }
}
