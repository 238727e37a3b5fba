/// Xen's `/hypervisor` node in a guest's device tree (Linux's
/// Documentation/devicetree/bindings/arm/xen.txt), as Xen 4.17's make_hypervisor_node writes it
/// for a domU (xen/arch/arm/domain_build.c).
public struct XenHypervisorNode: Equatable {
    /// Guest-physical ranges that hold something besides RAM (passed-through devices), kept out
    /// of the extended regions.
    public var occupied: [AddressRange<GuestPhysicalAddress>]
    public init(occupied: [AddressRange<GuestPhysicalAddress>] = []) { self.occupied = occupied }

    /// The smallest extended region Xen offers (find_domU_holes: 64 MiB), 2 MiB aligned.
    public static let minimumRegion: UInt64 = 64 << 20
    static let regionAlignment: UInt64 = 2 << 20
    /// The guest-physical address space stage 2 gives a guest (39-bit IPA).
    public static let addressSpaceEnd: UInt64 = 1 << 39

    /// Unused guest-physical space a guest may map foreign or grant pages into: every gap of
    /// at least 64 MiB (after 2 MiB alignment) between what the machine places, in address order.
    public func extendedRegions(memoryBytes: UInt64, layout: GuestLayout.Kind = .virt) -> [AddressRange<GuestPhysicalAddress>] {
        // The machine's GIC (either version), UART, grant-table window and magic pages, and the RAM it has.
        var used: [(UInt64, UInt64)] = [(GuestLayout.ramBase.rawValue, GuestLayout.ramBase.rawValue + memoryBytes)]
        for r in GuestLayout.reservedForPassthrough(layout) where r.base != GuestLayout.ramBase.rawValue {
            used.append((r.base, r.base + r.size))
        }
        // virt: QEMU's whole device space up to its virtio-mmio transports stays free for
        // devices to come (its PL031 at 0x09010000, fw_cfg, GPIO).
        if layout == .virt { used.append((GuestMachine.gicDistributor.base.rawValue, 0x0A00_0000)) }
        for r in occupied { used.append((r.base.rawValue, r.base.rawValue + r.size)) }
        used.sort { $0.0 < $1.0 }
        var regions: [AddressRange<GuestPhysicalAddress>] = []
        var next: UInt64 = 0
        func gap(to end: UInt64) {
            let start = alignUp(next, Self.regionAlignment), stop = alignDown(end, Self.regionAlignment)
            if stop > start && stop - start >= Self.minimumRegion {
                regions.append(AddressRange(base: GuestPhysicalAddress(start), size: stop - start))
            }
        }
        for (base, end) in used {
            if base > next { gap(to: base) }
            next = max(next, end)
        }
        gap(to: Self.addressSpaceEnd)
        return regions
    }

    /// Writes the node: compatible "xen,xen-4.17" "xen,xen"; reg = the grant-table window, then
    /// the extended regions; interrupts = the event-channel PPI, level-low, on every CPU (with
    /// the CPU mask the layout's other PPIs carry: virt's on a GICv2 only, Xen's 0xf always).
    public func add(to b: inout DeviceTreeBuilder, memoryBytes: UInt64, vcpus: Int, layout: GuestLayout) {
        let ppiCPUs: UInt32
        switch layout.kind {
        case .virt: ppiCPUs = layout.gic == .v2 ? UInt32((1 << min(vcpus, 8)) - 1) << 8 : 0
        case .xen: ppiCPUs = 0xF << 8
        }
        b.beginNode("hypervisor")
        b.property("compatible", strings: ["xen,xen-4.17", "xen,xen"])
        var reg = [XenGuestLayout.grantTableWindow.base.rawValue, XenGuestLayout.grantTableWindow.size]
        for r in extendedRegions(memoryBytes: memoryBytes, layout: layout.kind) { reg += [r.base.rawValue, r.size] }
        b.property("reg", u64Pairs: reg)
        // DT_IRQ_TYPE_LEVEL_LOW (8), as set_interrupt(evtchn_irq, 0xf, DT_IRQ_TYPE_LEVEL_LOW).
        b.property("interrupts", cells: [1, XenGuestLayout.eventChannelPPI - 16, 0x8 | ppiCPUs])
        // fdt_property_interrupts names the GIC itself: Xen's domU root has no interrupt-parent.
        b.property("interrupt-parent", cells: [layout.kind == .xen ? XenDomUMachine.gicPhandle : GuestMachine.gicPhandle])
        b.endNode()
    }
}

/// xl.cfg's dom0less `xen,enhanced`: which of Xen's PV interfaces a guest is told about.
public enum XenEnhanced: UInt8, CaseIterable, Equatable {
    /// The /hypervisor node, and (when they exist) xenstore and the PV console.
    case enabled = 0
    /// The /hypervisor node without xenstore ("no-xenstore").
    case noXenstore = 1
    /// No /hypervisor node: the guest is not told it runs on Xen (its hypercalls still answer,
    /// as Xen's do for any domU).
    case disabled = 2

    /// The TOML value.
    public var name: String {
        switch self {
        case .enabled: return "enabled"
        case .noXenstore: return "no-xenstore"
        case .disabled: return "disabled"
        }
    }

    public init?(name: String) {
        for c in Self.allCases where c.name.utf8.elementsEqual(name.utf8) { self = c; return }
        return nil
    }

    public var hasHypervisorNode: Bool { self != .disabled }
}
