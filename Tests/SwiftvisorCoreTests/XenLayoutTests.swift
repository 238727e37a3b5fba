import XCTest
@testable import SwiftvisorCore

/// `layout = "xen"`: the device tree a guest gets is the one Xen 4.17 writes for a dom0less
/// arm64 domU (xen/arch/arm/domain_build.c, prepare_dtb_domU), with arch-arm.h's GUEST_* places.
final class XenLayoutTests: XCTestCase {
    func tree(gic: GICVersion = .v3, vcpus: Int = 2, bootArguments: String = "console=ttyAMA0",
              initrd: AddressRange<GuestPhysicalAddress>? = nil, _ check: (DeviceTree) throws -> Void) throws {
        let blob = GuestLayout(.xen, gic: gic).deviceTree(memoryBytes: 128 << 20, vcpus: vcpus, bootArguments: bootArguments, initrd: initrd)
        XCTAssertEqual(blob.count % 4, 0)
        try blob.withUnsafeBytes { try check(try DeviceTree(bytes: $0)) }
    }

    func test_the_nodes_are_xens_in_xens_order() throws {
        try tree { t in
            XCTAssertEqual(t.nodes().map(\.name), ["", "chosen", "psci", "cpus", "cpu@0", "cpu@1", "memory@40000000",
                                                   "interrupt-controller@3001000", "timer", "pmu", "sbsa-uart@22000000"])
            let root = try XCTUnwrap(t.node(path: "/"))
            XCTAssertEqual(root.property("#address-cells")?.u32(0), 2)
            XCTAssertEqual(root.property("#size-cells")?.u32(0), 2)
            XCTAssertNil(root.property("compatible"), "Xen's domU root has no compatible")
            XCTAssertNil(root.property("interrupt-parent"))
        }
    }

    /// The root has no interrupt-parent, so the /hypervisor node names the GIC itself (Xen's
    /// fdt_property_interrupts); without it Linux finds no event-channel interrupt.
    func test_the_hypervisor_node_names_its_interrupt_parent() throws {
        let blob = GuestLayout(.xen, gic: .v3).deviceTree(memoryBytes: 128 << 20, vcpus: 2, bootArguments: "", xen: XenHypervisorNode())
        try blob.withUnsafeBytes { raw in
            let t = try DeviceTree(bytes: raw)
            let node = try XCTUnwrap(t.node(path: "/hypervisor"))
            XCTAssertEqual(node.property("interrupt-parent")?.u32(0), XenDomUMachine.gicPhandle)
            XCTAssertEqual(node.property("interrupts")?.u32(2), 0xF08, "PPI 31, level-low, CPU mask 0xf as Xen writes it")
        }
    }

    /// The PMU ID_AA64DFR0_EL1 shows has its node, as in the virt layout: PMUv3, overflow
    /// interrupt PPI 7 (INTID 23) level-high, the interrupt SelfHostedPMU raises.
    func test_the_pmu_has_its_node_with_the_overflow_ppi() throws {
        for gic in [GICVersion.v3, .v2] {
            try tree(gic: gic) { t in
                let pmus = t.nodes(compatibleWith: "arm,armv8-pmuv3")
                XCTAssertEqual(pmus.map(\.name), ["pmu"])
                let pmu = try XCTUnwrap(pmus.first)
                XCTAssertEqual(pmu.property("interrupts")?.u32(0), 1, "a PPI")
                XCTAssertEqual(pmu.property("interrupts")?.u32(1), 7, "PPI 7: INTID 23")
                XCTAssertEqual(pmu.property("interrupts")?.u32(2), 0xF04, "level-high, CPU mask 0xf as Xen writes PPIs")
                XCTAssertEqual(pmu.property("interrupt-parent")?.u32(0), XenDomUMachine.gicPhandle)
                XCTAssertEqual(HostPlatform(deviceTree: t).pmuINTID, 23, "as a kernel reads it")
            }
        }
    }

    func test_ram_is_guest_ram0_and_the_cpus_use_psci_over_hvc() throws {
        try tree { t in
            XCTAssertEqual(t.node(path: "/memory@40000000")?.reg.map(\.address), [0x4000_0000])
            XCTAssertEqual(t.node(path: "/memory@40000000")?.reg.map(\.size), [128 << 20])
            let psci = try XCTUnwrap(t.node(path: "/psci"))
            XCTAssertEqual(psci.property("compatible")?.strings, ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
            XCTAssertEqual(psci.property("method")?.string, "hvc")
            XCTAssertEqual(psci.property("cpu_off")?.u32(0), 1)
            XCTAssertEqual(psci.property("cpu_on")?.u32(0), 2)
            let cpu1 = try XCTUnwrap(t.node(path: "/cpus/cpu@1"))
            XCTAssertEqual(cpu1.property("reg")?.u32(0), 1)
            XCTAssertEqual(cpu1.property("enable-method")?.string, "psci")
            XCTAssertEqual(cpu1.property("device_type")?.string, "cpu")
            let p = HostPlatform(deviceTree: t)
            XCTAssertEqual(p.ram, [AddressRange(base: HostPhysicalAddress(0x4000_0000), size: 128 << 20)])
            XCTAssertEqual(p.psciConduit, .hvc)
            XCTAssertEqual(p.cpuMPIDRs, [0, 1])
        }
    }

    func test_gicv3_distributor_and_redistributor_region_at_xens_addresses() throws {
        try tree { t in
            let gic = try XCTUnwrap(t.node(path: "/interrupt-controller@3001000"))
            XCTAssertEqual(gic.property("compatible")?.strings, ["arm,gic-v3"])
            XCTAssertEqual(gic.reg.map(\.address), [0x0300_1000, 0x0302_0000])
            XCTAssertEqual(gic.reg.map(\.size), [0x1_0000, 0x100_0000], "GUEST_GICV3_GICD_SIZE, GUEST_GICV3_GICR0_SIZE")
            XCTAssertEqual(gic.property("#interrupt-cells")?.u32(0), 3)
            XCTAssertEqual(gic.property("#address-cells")?.u32(0), 0)
            XCTAssertNotNil(gic.property("interrupt-controller"))
            XCTAssertEqual(gic.property("phandle")?.u32(0), 65000)
            XCTAssertEqual(gic.property("linux,phandle")?.u32(0), 65000)
            let p = HostPlatform(deviceTree: t)
            XCTAssertEqual(p.gicVersion, .v3)
            XCTAssertEqual(p.gicDistributor?.base, HostPhysicalAddress(0x0300_1000))
            XCTAssertEqual(p.gicRedistributors?.base, HostPhysicalAddress(0x0302_0000))
        }
    }

    func test_gicv2_host_gives_a_gic400_with_gicc_at_guest_gicc_base() throws {
        try tree(gic: .v2) { t in
            let gic = try XCTUnwrap(t.node(path: "/interrupt-controller@3001000"))
            XCTAssertEqual(gic.property("compatible")?.strings, ["arm,gic-400"])
            XCTAssertEqual(gic.reg.map(\.address), [0x0300_1000, 0x0300_2000])
            XCTAssertEqual(gic.reg.map(\.size), [0x1000, 0x2000], "GUEST_GICD_SIZE, GUEST_GICC_SIZE")
            // Xen writes the CPU mask 0xf in every PPI specifier, on a GICv2 as on a GICv3.
            XCTAssertEqual(t.node(path: "/timer")?.property("interrupts")?.u32(2), 0xF08)
        }
    }

    func test_timer_has_xens_three_ppis_level_low() throws {
        try tree { t in
            let timer = try XCTUnwrap(t.node(path: "/timer"))
            XCTAssertEqual(timer.property("compatible")?.strings, ["arm,armv8-timer"])
            let cells = (0..<9).compactMap { timer.property("interrupts")?.u32($0) }
            XCTAssertEqual(cells, [1, 13, 0xF08, 1, 14, 0xF08, 1, 11, 0xF08], "GUEST_TIMER_PHYS_S_PPI, _PHYS_NS_PPI, _VIRT_PPI")
            XCTAssertEqual(timer.property("interrupt-parent")?.u32(0), 65000)
        }
    }

    func test_the_vpl011_is_an_sbsa_uart_at_guest_pl011_base_on_guest_vpl011_spi() throws {
        try tree { t in
            let uart = try XCTUnwrap(t.nodes(compatibleWith: "arm,sbsa-uart").first)
            XCTAssertEqual(uart.name, "sbsa-uart@22000000")
            XCTAssertEqual(uart.reg.map(\.address), [0x2200_0000])
            XCTAssertEqual(uart.reg.map(\.size), [0x1000])
            XCTAssertEqual((0..<3).compactMap { uart.property("interrupts")?.u32($0) }, [0, 0, 0xF04], "INTID 32, level-high")
            XCTAssertEqual(uart.property("interrupt-parent")?.u32(0), 65000)
            XCTAssertEqual(uart.property("current-speed")?.u32(0), 115_200)
            XCTAssertTrue(t.nodes(compatibleWith: "arm,pl011").isEmpty)
        }
        XCTAssertEqual(GuestLayout(.xen, gic: .v3).uartSPI + 32, 32)
    }

    func test_chosen_has_bootargs_and_initrd_and_no_stdout_path() throws {
        let initrd = AddressRange(base: GuestPhysicalAddress(0x4200_0000), size: 0x3000)
        try tree(initrd: initrd) { t in
            let chosen = try XCTUnwrap(t.node(path: "/chosen"))
            XCTAssertEqual(chosen.property("bootargs")?.string, "console=ttyAMA0")
            XCTAssertEqual(chosen.property("linux,initrd-start")?.cells(at: 0, count: 2), 0x4200_0000)
            XCTAssertEqual(chosen.property("linux,initrd-end")?.cells(at: 0, count: 2), 0x4200_3000)
            XCTAssertNil(chosen.property("stdout-path"))
        }
        // Xen leaves bootargs out when the command line is empty.
        try tree(bootArguments: "") { t in XCTAssertNil(t.node(path: "/chosen")?.property("bootargs")) }
    }

    func test_the_virt_layout_is_unchanged_by_default() {
        let virt = GuestLayout(.virt, gic: .v3)
        XCTAssertEqual(virt.deviceTree(memoryBytes: 64 << 20, vcpus: 2, bootArguments: "x"),
                       GuestMachine.deviceTree(memoryBytes: 64 << 20, vcpus: 2, bootArguments: "x"))
        XCTAssertEqual(virt.uart, GuestMachine.uart)
        XCTAssertEqual(virt.uartSPI, 1)
        XCTAssertEqual(virt.gicDistributor, GuestMachine.gicDistributor)
        XCTAssertEqual(virt.gicRedistributorBase, GuestMachine.gicRedistributorBase)
    }

    func test_layout_names() {
        XCTAssertEqual(GuestLayout.Kind(name: "xen"), .xen)
        XCTAssertEqual(GuestLayout.Kind(name: "virt"), .virt)
        XCTAssertNil(GuestLayout.Kind(name: "Xen"))
        XCTAssertEqual(GuestLayout.Kind.allCases.map(\.name), ["virt", "xen"])
    }

    func test_the_layout_travels_in_the_boot_manifest_flags_bit_3() throws {
        var g = BootManifest.Guest(name: "x", kernel: .init(base: HostPhysicalAddress(0x5000_0000), size: 64), memoryBytes: 16 << 20,
                                   vcpus: 1, commandLine: "", autostart: false)
        g.layout = .xen
        let bytes = BootManifest(guests: [g, BootManifest.Guest(name: "y", kernel: g.kernel, memoryBytes: 16 << 20, vcpus: 1, commandLine: "")]).encoded
        XCTAssertEqual(bytes[16 + 208], 0b1001, "bit 0: not autostarted, bit 3: xen layout")
        let parsed = try bytes.withUnsafeBytes { try BootManifest(bytes: $0) }
        XCTAssertEqual(parsed.guests.map(\.layout), [.xen, .virt])
        XCTAssertEqual(parsed.guests.map(\.autostart), [false, true])
    }
}
