import Foundation
import XCTest
@testable import SwiftvisorCore

/// The host device trees of the three machines swiftvisor runs on, as QEMU hands them over
/// (Fixtures/README.md says how each was made).
final class BoardDeviceTreeTests: XCTestCase {
    func withPlatform(_ fixture: String, _ body: (DeviceTree, HostPlatform) throws -> Void) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(fixture)")
        let blob = try Data(contentsOf: url)
        try blob.withUnsafeBytes { bytes in
            let dt = try DeviceTree(bytes: bytes)
            try body(dt, HostPlatform(deviceTree: dt))
        }
    }

    func range(_ base: UInt64, _ size: UInt64) -> AddressRange<HostPhysicalAddress> { .init(base: HostPhysicalAddress(base), size: size) }

    // MARK: Raspberry Pi 4B (QEMU raspi4b)

    func test_raspi4b_console_is_the_pl011_at_its_cpu_address_not_the_mini_uart_stdout_path_names() throws {
        try withPlatform("raspi4b-qemu10.dtb") { _, p in
            // stdout-path is "serial1" (the mini UART, no driver): serial0 = /soc/serial@7e201000,
            // bus address 0x7e201000 through /soc's ranges 0x7e000000 -> 0xfe000000.
            XCTAssertEqual(p.uart, self.range(0xFE20_1000, 0x200))
            XCTAssertEqual(p.uartModel, .pl011)
            XCTAssertEqual(p.uartINTID, 32 + 121)
        }
    }

    func test_raspi4b_ram_is_the_low_960_MiB_without_the_spin_table_page() throws {
        try withPlatform("raspi4b-qemu10.dtb") { _, p in
            XCTAssertEqual(p.ram, [self.range(0, 0x3C00_0000)])
            XCTAssertTrue(p.reservedMemory.contains(self.range(0, 0x1000)))   // /memreserve/
            XCTAssertEqual(p.usableRAM, [self.range(0x1000, 0x3C00_0000 - 0x1000)])
            var allocator = PhysicalRangeAllocator(ram: p.ram)
            for r in p.reservedMemory { allocator.reserve(r) }
            XCTAssertEqual(allocator.allocate(size: 0x1000, alignment: 0x1000), HostPhysicalAddress(0x1000))
        }
    }

    func test_raspi4b_secondaries_use_the_spin_table() throws {
        try withPlatform("raspi4b-qemu10.dtb") { _, p in
            XCTAssertNil(p.psciConduit)
            XCTAssertEqual(p.cpus, [0xD8, 0xE0, 0xE8, 0xF0].enumerated().map {
                HostCPU(mpidr: UInt64($0.offset), enableMethod: .spinTable(releaseAddress: $0.element))
            })
            XCTAssertEqual(p.cpuMPIDRs, [0, 1, 2, 3])
        }
    }

    func test_raspi4b_is_stopped_through_the_pm_watchdog() throws {
        try withPlatform("raspi4b-qemu10.dtb") { _, p in
            XCTAssertEqual(p.powerManagementWatchdog, self.range(0xFE10_0000, 0x114))
        }
    }

    func test_raspi4b_gic400_reg_translates_through_soc_ranges() throws {
        try withPlatform("raspi4b-qemu10.dtb") { dt, _ in
            let gic = try XCTUnwrap(dt.nodes(compatibleWith: "arm,gic-400").first)
            let reg = try XCTUnwrap(dt.translatedReg(gic))
            XCTAssertEqual(reg.map(\.address), [0xFF84_1000, 0xFF84_2000, 0xFF84_4000, 0xFF84_6000])
            XCTAssertEqual(reg.map(\.size), [0x1000, 0x2000, 0x2000, 0x2000])
        }
    }

    // MARK: ZCU102 (QEMU xlnx-zcu102)

    func test_zcu102_console_is_the_cadence_uart_serial0() throws {
        try withPlatform("xlnx-zcu102-qemu10.dtb") { _, p in
            XCTAssertEqual(p.uart, self.range(0xFF00_0000, 0x1000))
            XCTAssertEqual(p.uartModel, .cadence)
            XCTAssertEqual(p.uartINTID, 32 + 21)
        }
    }

    func test_zcu102_has_2_GiB_at_0_and_psci_cpus() throws {
        try withPlatform("xlnx-zcu102-qemu10.dtb") { _, p in
            XCTAssertEqual(p.ram, [self.range(0, 0x8000_0000)])
            // No /memreserve/ here, but page 0 is never handed out (it would be a null pointer).
            XCTAssertEqual(p.usableRAM, [self.range(0x1000, 0x8000_0000 - 0x1000)])
            XCTAssertEqual(p.psciConduit, .smc)
            XCTAssertEqual(p.cpus, (0..<4).map { HostCPU(mpidr: UInt64($0), enableMethod: .psci) })
            XCTAssertNil(p.powerManagementWatchdog)
        }
    }

    // MARK: QEMU virt

    func test_virt_reads_as_before() throws {
        try withPlatform("virt-gicv3-qemu7.dtb") { _, p in
            XCTAssertEqual(p.ram, [self.range(0x4000_0000, 0x4000_0000)])
            XCTAssertEqual(p.usableRAM, p.ram)
            XCTAssertEqual(p.uart, self.range(0x0900_0000, 0x1000))
            XCTAssertEqual(p.uartModel, .pl011)
            XCTAssertEqual(p.uartINTID, 33)
            XCTAssertEqual(p.cpus, [HostCPU(mpidr: 0, enableMethod: .psci), HostCPU(mpidr: 1, enableMethod: .psci)])
            XCTAssertEqual(p.gicDistributor?.base, HostPhysicalAddress(0x0800_0000))
            XCTAssertEqual(p.psciConduit, .smc)
            XCTAssertEqual(p.pmuINTID, 23, "arm,armv8-pmuv3 on PPI 7")
        }
    }

    // MARK: Built trees: reservations, ranges, aliases

    func test_reserved_memory_children_and_memreserve_are_kept_out_of_allocations() throws {
        var b = DeviceTreeBuilder()
        b.beginNode("")
        b.property("#address-cells", cells: [2]); b.property("#size-cells", cells: [2])
        b.beginNode("memory@0"); b.property("device_type", string: "memory")
        b.property("reg", u64Pairs: [0, 0x1000_0000, 0x1_0000_0000, 0x1000_0000]); b.endNode()
        b.beginNode("reserved-memory")
        b.property("#address-cells", cells: [2]); b.property("#size-cells", cells: [2]); b.property("ranges", cells: [])
        b.beginNode("firmware@800000"); b.property("reg", u64Pairs: [0x80_0000, 0x20_0000]); b.endNode()
        b.beginNode("pool"); b.property("size", cells: [0, 0x100_0000]); b.endNode()   // no reg: not a fixed hole
        b.endNode()
        b.endNode()
        let blob = b.finish()
        try blob.withUnsafeBytes { bytes in
            let p = HostPlatform(deviceTree: try DeviceTree(bytes: bytes))
            XCTAssertEqual(p.ram, [range(0, 0x1000_0000), range(0x1_0000_0000, 0x1000_0000)])
            XCTAssertEqual(p.usableRAM, [range(0x1000, 0x80_0000 - 0x1000), range(0xA0_0000, 0x1000_0000 - 0xA0_0000), range(0x1_0000_0000, 0x1000_0000)])
        }
    }

    func test_a_bus_without_ranges_is_not_memory_mapped() throws {
        var b = DeviceTreeBuilder()
        b.beginNode("")
        b.property("#address-cells", cells: [1]); b.property("#size-cells", cells: [1])
        b.beginNode("i2c@1000"); b.property("#address-cells", cells: [1]); b.property("#size-cells", cells: [0])
        b.property("reg", cells: [0x1000, 0x100])
        b.beginNode("eeprom@50"); b.property("reg", cells: [0x50]); b.endNode()
        b.endNode()
        b.beginNode("bus"); b.property("#address-cells", cells: [1]); b.property("#size-cells", cells: [1])
        b.property("ranges", cells: [0x0, 0x8000_0000, 0x1000])
        b.beginNode("dev@f00"); b.property("reg", cells: [0xF00, 0x10]); b.endNode()
        b.beginNode("dev@2000"); b.property("reg", cells: [0x2000, 0x10]); b.endNode()   // outside every window
        b.endNode()
        b.endNode()
        let blob = b.finish()
        try blob.withUnsafeBytes { bytes in
            let dt = try DeviceTree(bytes: bytes)
            let all = dt.nodes()
            func reg(_ path: String) -> [UInt64]? { dt.translatedReg(of: dt.nodeIndex(pathOrAlias: path, in: all)!, in: all)?.map(\.address) }
            XCTAssertEqual(reg("/i2c@1000"), [0x1000])
            XCTAssertNil(reg("/i2c@1000/eeprom@50"))
            XCTAssertEqual(reg("/bus/dev@f00"), [0x8000_0F00])
            XCTAssertNil(reg("/bus/dev@2000"))
        }
    }

    func test_the_console_is_the_first_uart_with_a_driver_stdout_path_then_serial0_then_any() throws {
        func platform(stdoutPath: String?, serial0: String?, pl011Status: String = "okay") throws -> HostPlatform {
            var b = DeviceTreeBuilder()
            b.beginNode("")
            b.property("#address-cells", cells: [1]); b.property("#size-cells", cells: [1])
            b.beginNode("aliases")
            b.property("serial1", string: "/mini@2000")
            if let serial0 { b.property("serial0", string: serial0) }
            b.endNode()
            b.beginNode("chosen"); if let stdoutPath { b.property("stdout-path", string: stdoutPath) }; b.endNode()
            b.beginNode("mini@2000"); b.property("compatible", string: "brcm,bcm2835-aux-uart"); b.property("reg", cells: [0x2000, 0x40]); b.endNode()
            b.beginNode("cdns@3000"); b.property("compatible", strings: ["xlnx,zynqmp-uart", "cdns,uart-r1p12"])
            b.property("reg", cells: [0x3000, 0x1000]); b.property("interrupts", cells: [0, 21, 4]); b.endNode()
            b.beginNode("pl011@1000"); b.property("compatible", strings: ["arm,pl011", "arm,primecell"])
            b.property("reg", cells: [0x1000, 0x1000]); b.property("status", string: pl011Status); b.endNode()
            b.endNode()
            let blob = b.finish()
            return try blob.withUnsafeBytes { HostPlatform(deviceTree: try DeviceTree(bytes: $0)) }
        }
        // stdout-path by alias with options, naming a UART without a driver: serial0 instead.
        let pi = try platform(stdoutPath: "serial1:115200n8", serial0: "/pl011@1000")
        XCTAssertEqual(pi.uart, range(0x1000, 0x1000)); XCTAssertEqual(pi.uartModel, .pl011)
        // stdout-path by path wins over serial0.
        let zynq = try platform(stdoutPath: "/cdns@3000", serial0: "/pl011@1000")
        XCTAssertEqual(zynq.uart, range(0x3000, 0x1000)); XCTAssertEqual(zynq.uartModel, .cadence); XCTAssertEqual(zynq.uartINTID, 53)
        // Neither usable: the first enabled node with a driver (a disabled PL011 is skipped).
        let none = try platform(stdoutPath: "serial1", serial0: "/pl011@1000", pl011Status: "disabled")
        XCTAssertEqual(none.uart, range(0x3000, 0x1000))
    }
}
