/// The machine Xen 4.17 gives an arm64 domU (the guest key `layout = "xen"`): the GUEST_*
/// places of xen/include/public/arch-arm.h, and the device tree xen/arch/arm/domain_build.c
/// writes for a dom0less domU (prepare_dtb_domU: chosen, psci, cpus, memory, the vGIC, timer,
/// the vpl011 `arm,sbsa-uart`), node for node and property for property; and the PMU, which
/// swiftvisor gives every guest (Xen 4.17 hides it from a domU and writes no node for it).
public enum XenDomUMachine {
    /// GUEST_RAM0_BASE/SIZE: 3 GiB of low RAM at 1 GiB. Xen continues at GUEST_RAM1_BASE
    /// (0x0200000000); swiftvisor gives a xen-layout guest at most RAM0 (the config refuses more).
    public static var ram0: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x4000_0000), size: 0xC000_0000) }
    /// GUEST_GICV3_GICD_BASE/SIZE.
    public static var gicv3Distributor: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x0300_1000), size: 0x1_0000) }
    /// GUEST_GICV3_GICR0_BASE/SIZE: one redistributor region for up to 128 vCPUs (only the
    /// guest's own vCPUs' frames answer; GICR_TYPER.Last marks the last).
    public static var gicRedistributorRegion: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x0302_0000), size: 0x100_0000) }
    public static var gicRedistributorBase: GuestPhysicalAddress { gicRedistributorRegion.base }
    /// GUEST_GICD_BASE/SIZE: a GICv2 distributor is one 4 KiB page (IHI0048B 4.1.2).
    public static var gicv2Distributor: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x0300_1000), size: 0x1000) }
    /// GUEST_GICC_BASE/SIZE: a GICv2 guest's CPU interface, the hardware's GICV.
    public static var gicCPUInterface: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x0300_2000), size: 0x2000) }
    /// GUEST_PL011_BASE/SIZE: the vpl011 (an SBSA UART; swiftvisor's PL011 model serves it).
    public static var uart: AddressRange<GuestPhysicalAddress> { AddressRange(base: GuestPhysicalAddress(0x2200_0000), size: 0x1000) }
    /// GUEST_VPL011_SPI (INTID 32) as an SPI number.
    public static let uartSPI: UInt32 = 0
    /// GUEST_PHANDLE_GIC (xen/include/public/device_tree_defs.h).
    public static let gicPhandle: UInt32 = 65000
    /// GUEST_TIMER_PHYS_S_PPI, GUEST_TIMER_PHYS_NS_PPI, GUEST_TIMER_VIRT_PPI (INTIDs 29, 30, 27).
    static let timerINTIDs: [UInt32] = [29, 30, 27]
    /// The PMU's overflow interrupt: INTID 23 (PPI 7), as in the virt layout (and KVM's
    /// KVM_ARM_PMUv3_PPI), free in Xen's domU map (timers 27, 29, 30; event channels 31).
    public static let pmuINTID: UInt32 = 23
    /// Xen's psci node names PSCI 0.1 function numbers (arch-arm.h PSCI_cpu_off, PSCI_cpu_on).
    static let psciCPUOff: UInt32 = 1
    static let psciCPUOn: UInt32 = 2
    /// DT_IRQ_TYPE_LEVEL_HIGH, DT_IRQ_TYPE_LEVEL_LOW (devicetree binding arm,gic).
    static let levelHigh: UInt32 = 4
    static let levelLow: UInt32 = 8

    /// The three cells of interrupt `intid` as domain_build.c's set_interrupt writes them:
    /// PPI (1) or SPI (0), the number within its kind, and the CPU mask 0xf in bits 15:8 with
    /// the trigger type (Xen writes the mask for a GICv3 too).
    static func interrupt(_ intid: UInt32, _ type: UInt32) -> [UInt32] {
        let ppi = intid < 32
        return [ppi ? 1 : 0, ppi ? intid - 16 : intid - 32, 0xF << 8 | type]
    }

    /// The nodes under the root of a Xen domU's device tree, in prepare_dtb_domU's order
    /// (the caller writes the root node and, after these, the /hypervisor node).
    static func writeNodes(_ b: inout DeviceTreeBuilder, layout: GuestLayout, memoryBytes: UInt64, vcpus: Int,
                           bootArguments: String, initrd: AddressRange<GuestPhysicalAddress>?) {
        b.property("#address-cells", cells: [2])   // GUEST_ROOT_ADDRESS_CELLS
        b.property("#size-cells", cells: [2])      // GUEST_ROOT_SIZE_CELLS

        // make_chosen_node: bootargs only when there are some; no stdout-path.
        b.beginNode("chosen")
        if !bootArguments.utf8.isEmpty { b.property("bootargs", string: bootArguments) }
        if let initrd {
            b.property("linux,initrd-start", u64Pairs: [initrd.base.rawValue])
            b.property("linux,initrd-end", u64Pairs: [initrd.end.rawValue])
        }
        b.endNode()

        // make_psci_node.
        b.beginNode("psci")
        b.property("compatible", strings: ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
        b.property("method", string: "hvc")
        b.property("cpu_off", cells: [psciCPUOff])
        b.property("cpu_on", cells: [psciCPUOn])
        b.endNode()

        // make_cpus_node: Xen copies the host CPU's compatible; swiftvisor names the architecture.
        b.beginNode("cpus")
        b.property("#address-cells", cells: [1])
        b.property("#size-cells", cells: [0])
        for n in 0..<vcpus {
            let affinity = UInt32(truncatingIfNeeded: GuestMachine.mpidr(vcpu: n) & 0xFF_FFFF)
            b.beginNode("cpu@" + hex(affinity))
            b.property("compatible", string: "arm,armv8")
            b.property("device_type", string: "cpu")
            b.property("reg", cells: [affinity])
            b.property("enable-method", string: "psci")
            b.endNode()
        }
        b.endNode()

        // make_memory_node: one bank, in GUEST_RAM0.
        b.beginNode("memory@" + hex(layout.ramBase.rawValue))
        b.property("device_type", string: "memory")
        b.property("reg", u64Pairs: [layout.ramBase.rawValue, memoryBytes])
        b.endNode()

        // make_gicv3_domU_node / make_gicv2_domU_node.
        b.beginNode("interrupt-controller@" + hex(layout.gicDistributor.base.rawValue))
        b.property("#address-cells", cells: [0])
        b.property("#interrupt-cells", cells: [3])
        b.emptyProperty("interrupt-controller")
        switch layout.gic {
        case .v3:
            b.property("compatible", string: "arm,gic-v3")
            b.property("reg", u64Pairs: [layout.gicDistributor.base.rawValue, layout.gicDistributor.size,
                                         gicRedistributorRegion.base.rawValue, gicRedistributorRegion.size])
        case .v2:
            b.property("compatible", string: "arm,gic-400")
            b.property("reg", u64Pairs: [layout.gicDistributor.base.rawValue, layout.gicDistributor.size,
                                         layout.gicCPUInterface.base.rawValue, layout.gicCPUInterface.size])
        }
        b.property("linux,phandle", cells: [gicPhandle])
        b.property("phandle", cells: [gicPhandle])
        b.endNode()

        // make_timer_node: the secure, non-secure and virtual timer PPIs, level-low.
        b.beginNode("timer")
        b.property("compatible", string: "arm,armv8-timer")
        b.property("interrupts", cells: timerINTIDs.flatMap { interrupt($0, levelLow) })
        b.property("interrupt-parent", cells: [gicPhandle])
        b.endNode()

        // The PMU per vCPU (issue 11 §3): ID_AA64DFR0_EL1 shows PMUv3, and without this node
        // Linux's armv8 PMU driver does not probe (no perf). Described as in the virt layout.
        b.beginNode("pmu")
        b.property("compatible", string: "arm,armv8-pmuv3")
        b.property("interrupts", cells: interrupt(pmuINTID, levelHigh))
        b.property("interrupt-parent", cells: [gicPhandle])
        b.endNode()

        // make_vpl011_uart_node.
        b.beginNode("sbsa-uart@" + hex(layout.uartBase.rawValue))
        b.property("compatible", string: "arm,sbsa-uart")
        b.property("reg", u64Pairs: [layout.uartBase.rawValue, GuestLayout.uartSize])
        b.property("interrupts", cells: interrupt(32 + layout.uartSPI, levelHigh))
        b.property("interrupt-parent", cells: [gicPhandle])
        b.property("current-speed", cells: [115_200])
        b.endNode()
    }

    /// Lower-case hexadecimal without prefix, as a node's unit address.
    static func hex<T: BinaryInteger>(_ v: T) -> String { String(v, radix: 16) }
}
