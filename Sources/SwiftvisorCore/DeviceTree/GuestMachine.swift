/// The machine a guest sees by default (`layout = "virt"`): a subset of QEMU `virt`, so guests
/// written for it run unmodified. `GuestLayout` chooses between it and Xen's domU machine.
public enum GuestMachine {
    public static let ramBase = GuestPhysicalAddress(0x4000_0000)
    // Computed (not stored) so code in other modules folds them to constants.
    @inlinable public static var uart: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x0900_0000), size: 0x1000) }
    /// GICv3 distributor and one 128 KiB redistributor frame pair per vCPU (QEMU `virt` layout).
    @inlinable public static var gicDistributor: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x0800_0000), size: 0x1_0000) }
    @inlinable public static var gicRedistributorBase: GuestPhysicalAddress { GuestPhysicalAddress(0x080A_0000) }
    @inlinable public static func gicRedistributors(vcpus: Int) -> AddressRange<GuestPhysicalAddress> {
        .init(base: gicRedistributorBase, size: UInt64(vcpus) * VirtualGIC.redistributorStride)
    }
    /// GICv2 CPU interface (GICC) at QEMU `virt`'s address: a guest on a GICv2 host finds the
    /// hardware's virtual CPU interface (GICV, 8 KiB: GICV_DIR is in the second page) here.
    @inlinable public static var gicCPUInterface: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x0801_0000), size: 0x2000) }
    static let gicPhandle: UInt32 = 0x8001
    /// UART interrupt: SPI 1, level-high (as QEMU `virt` describes it).
    public static let uartSPI: UInt32 = 1
    /// The emulated PL031 real-time clock (`PL031`) and its interrupt, SPI 2 (INTID 34), as QEMU virt's.
    @inlinable public static var rtc: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x0901_0000), size: 0x1000) }
    public static let rtcSPI: UInt32 = 2
    /// Virtual MPIDR_EL1 of vCPU `n`: Aff0 = n, with bit 31 RES1 (Arm ARM D19.2.107).
    public static func mpidr(vcpu n: Int) -> UInt64 { 1 << 31 | UInt64(n) }

    /// The device tree handed to a guest in x0: the machine of its `layout` (QEMU virt's by
    /// default; `XenDomUMachine` for a Xen domU's).
    public static func deviceTree(memoryBytes: UInt64, vcpus: Int, bootArguments: String,
                                  initrd: AddressRange<GuestPhysicalAddress>? = nil, gic: GICVersion = .v3,
                                  layout: GuestLayout.Kind = .virt, xen: XenHypervisorNode? = nil) -> [UInt8] {
        var b = DeviceTreeBuilder()
        b.beginNode("")
        switch layout {
        case .virt:
            writeNodes(&b, memoryBytes: memoryBytes, vcpus: vcpus, bootArguments: bootArguments, initrd: initrd, gic: gic)
        case .xen:
            XenDomUMachine.writeNodes(&b, layout: GuestLayout(.xen, gic: gic), memoryBytes: memoryBytes, vcpus: vcpus,
                                      bootArguments: bootArguments, initrd: initrd)
        }
        // Last, as Xen writes it after the devices (make_hypervisor_node).
        xen?.add(to: &b, memoryBytes: memoryBytes, vcpus: vcpus, layout: GuestLayout(layout, gic: gic))
        b.endNode()
        return b.finish()
    }

    /// The nodes under the root of the QEMU virt-like machine's device tree.
    static func writeNodes(_ b: inout DeviceTreeBuilder, memoryBytes: UInt64, vcpus: Int, bootArguments: String,
                           initrd: AddressRange<GuestPhysicalAddress>?, gic: GICVersion) {
        // GICv2 PPI specifiers carry the mask of CPUs the PPI is wired to in bits 15:8
        // (devicetree binding arm,gic); a GICv3's have none.
        let ppiCPUs: UInt32 = gic == .v2 ? UInt32((1 << min(vcpus, 8)) - 1) << 8 : 0
        b.property("compatible", strings: ["linux,dummy-virt", "swiftvisor,guest"])
        b.property("model", string: "swiftvisor guest (QEMU virt compatible)")
        b.property("#address-cells", cells: [2])
        b.property("#size-cells", cells: [2])
        b.property("interrupt-parent", cells: [gicPhandle])

        b.beginNode("chosen")
        b.property("bootargs", string: bootArguments)
        b.property("stdout-path", string: "/pl011@9000000")
        if let initrd {
            b.property("linux,initrd-start", u64Pairs: [initrd.base.rawValue])
            b.property("linux,initrd-end", u64Pairs: [initrd.end.rawValue])
        }
        b.endNode()

        b.beginNode("memory@40000000")
        b.property("device_type", string: "memory")
        b.property("reg", u64Pairs: [ramBase.rawValue, memoryBytes])
        b.endNode()

        b.beginNode("cpus")
        b.property("#address-cells", cells: [1])
        b.property("#size-cells", cells: [0])
        for n in 0..<vcpus {
            b.beginNode("cpu@\(n)")
            b.property("device_type", string: "cpu")
            b.property("compatible", string: "arm,armv8")
            b.property("reg", cells: [UInt32(truncatingIfNeeded: mpidr(vcpu: n) & 0xFF_FFFF)])
            b.property("enable-method", string: "psci")
            b.endNode()
        }
        b.endNode()

        b.beginNode("intc@8000000")
        switch gic {
        case .v3:
            b.property("compatible", string: "arm,gic-v3")
            b.property("#interrupt-cells", cells: [3])
            b.emptyProperty("interrupt-controller")
            b.property("#redistributor-regions", cells: [1])
            let redistributors = gicRedistributors(vcpus: vcpus)
            b.property("reg", u64Pairs: [gicDistributor.base.rawValue, gicDistributor.size, redistributors.base.rawValue, redistributors.size])
        case .v2:
            // As QEMU virt describes its GICv2 to Linux; GICC is the hardware's GICV.
            b.property("compatible", string: "arm,cortex-a15-gic")
            b.property("#interrupt-cells", cells: [3])
            b.emptyProperty("interrupt-controller")
            b.property("reg", u64Pairs: [gicDistributor.base.rawValue, gicDistributor.size, gicCPUInterface.base.rawValue, gicCPUInterface.size])
        }
        b.property("interrupts", cells: [1, 9, 4 | ppiCPUs])   // maintenance: PPI 9, level-high
        b.property("phandle", cells: [gicPhandle])
        b.endNode()

        b.beginNode("psci")
        b.property("compatible", strings: ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
        b.property("method", string: "hvc")
        b.property("cpu_suspend", cells: [0xC400_0001])
        b.property("cpu_off", cells: [0x8400_0002])
        b.property("cpu_on", cells: [0xC400_0003])
        b.endNode()

        b.beginNode("timer")
        b.property("compatible", strings: ["arm,armv8-timer", "arm,armv7-timer"])
        // PPIs 13, 14, 11, 10 (secure, non-secure, virtual, hypervisor), level-low.
        let low = 0x104 | ppiCPUs
        b.property("interrupts", cells: [1, 13, low, 1, 14, low, 1, 11, low, 1, 10, low])
        b.emptyProperty("always-on")
        b.endNode()

        // The PMU per vCPU (issue 11): PMUv3, overflow interrupt PPI 7 (INTID 23), level-high,
        // as QEMU's virt describes it.
        b.beginNode("pmu")
        b.property("compatible", string: "arm,armv8-pmuv3")
        b.property("interrupts", cells: [1, 7, 4 | ppiCPUs])
        b.endNode()

        b.beginNode("apb-pclk")
        b.property("compatible", string: "fixed-clock")
        b.property("#clock-cells", cells: [0])
        b.property("clock-frequency", cells: [24_000_000])
        b.property("clock-output-names", string: "clk24mhz")
        b.property("phandle", cells: [0x8000])
        b.endNode()

        b.beginNode("pl011@9000000")
        b.property("compatible", strings: ["arm,pl011", "arm,primecell"])
        b.property("reg", u64Pairs: [uart.base.rawValue, uart.size])
        b.property("interrupts", cells: [0, uartSPI, 4])
        b.property("clock-names", strings: ["uartclk", "apb_pclk"])
        b.property("clocks", cells: [0x8000, 0x8000])
        b.endNode()

        b.beginNode("pl031@9010000")
        b.property("compatible", strings: ["arm,pl031", "arm,primecell"])
        b.property("reg", u64Pairs: [rtc.base.rawValue, rtc.size])
        b.property("interrupts", cells: [0, rtcSPI, 4])
        b.property("clock-names", string: "apb_pclk")
        b.property("clocks", cells: [0x8000])
        b.endNode()
    }
}
