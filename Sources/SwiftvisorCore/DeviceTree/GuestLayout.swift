/// The machine a guest is given (its `layout` key): where its GIC, its UART and its RAM are,
/// which interrupt its UART raises, and which device tree describes them. A VM keeps one for
/// its lifetime; the emulated-device dispatch (`EmulatedDevice.at`) reads its addresses.
///
/// - `virt`: a subset of QEMU `virt` (`GuestMachine`), so guests written for it run unmodified.
/// - `xen`: the machine Xen 4.17 gives an arm64 domU (xen/include/public/arch-arm.h, GUEST_*;
///   the device tree of xen/arch/arm/domain_build.c's prepare_dtb_domU), so images built for
///   Xen dom0less domUs run unmodified.
///
/// Both put RAM at 0x40000000 (QEMU's RAM base, Xen's GUEST_RAM0_BASE) and leave Xen's
/// grant-table window and magic pages (`XenGuestLayout`) free.
public struct GuestLayout: Equatable {
    public enum Kind: UInt8, CaseIterable, Equatable {
        case virt = 0, xen = 1

        /// The word the config file uses.
        public var name: String {
            switch self {
            case .virt: "virt"
            case .xen: "xen"
            }
        }

        public init?(name: String) {
            // Compared as bytes: String == pulls in Unicode tables on bare metal.
            for k in Kind.allCases where k.name.utf8.elementsEqual(name.utf8) { self = k; return }
            return nil
        }
    }

    public let kind: Kind
    /// The GIC the guest gets: the host's kind (`VirtualCPUInterface.version`).
    public let gic: GICVersion
    /// Base of the emulated PL011 (`uartSize` long in every layout).
    public let uartBase: GuestPhysicalAddress
    /// The UART's interrupt as an SPI number (INTID - 32), level-high.
    public let uartSPI: UInt32
    public let gicDistributor: AddressRange<GuestPhysicalAddress>
    /// The first vCPU's redistributor frame pair (GICv3); the others follow it,
    /// `VirtualGIC.redistributorStride` apart.
    public let gicRedistributorBase: GuestPhysicalAddress
    /// Where a GICv2 guest finds its CPU interface (the hardware's GICV, mapped in stage 2).
    public let gicCPUInterface: AddressRange<GuestPhysicalAddress>
    /// The most RAM this machine has room for at `ramBase`, in bytes.
    public let maximumRAM: UInt64
    /// The emulated PL031 RTC (virt only: Xen's domU has none).
    public let rtc: AddressRange<GuestPhysicalAddress>?

    /// The UART's register frame is one 4 KiB page in both layouts (PL011, GUEST_PL011_SIZE).
    @inlinable public static var uartSize: UInt64 { 0x1000 }
    public var uart: AddressRange<GuestPhysicalAddress> { .init(base: uartBase, size: Self.uartSize) }
    /// RAM starts here in both layouts.
    @inlinable public static var ramBase: GuestPhysicalAddress { GuestPhysicalAddress(0x4000_0000) }
    public var ramBase: GuestPhysicalAddress { Self.ramBase }

    @inlinable public func gicRedistributors(vcpus: Int) -> AddressRange<GuestPhysicalAddress> {
        .init(base: gicRedistributorBase, size: UInt64(vcpus) * VirtualGIC.redistributorStride)
    }

    public init(_ kind: Kind, gic: GICVersion) {
        self.kind = kind
        self.gic = gic
        switch kind {
        case .virt:
            uartBase = GuestMachine.uart.base
            uartSPI = GuestMachine.uartSPI
            gicDistributor = GuestMachine.gicDistributor
            gicRedistributorBase = GuestMachine.gicRedistributorBase
            gicCPUInterface = GuestMachine.gicCPUInterface
            // QEMU virt has RAM up to 0x40_0000_0000 below its high PCIe window.
            maximumRAM = 255 << 30
            rtc = GuestMachine.rtc
        case .xen:
            uartBase = XenDomUMachine.uart.base
            uartSPI = XenDomUMachine.uartSPI
            gicDistributor = gic == .v3 ? XenDomUMachine.gicv3Distributor : XenDomUMachine.gicv2Distributor
            gicRedistributorBase = XenDomUMachine.gicRedistributorBase
            gicCPUInterface = XenDomUMachine.gicCPUInterface
            maximumRAM = XenDomUMachine.ram0.size
            rtc = nil
        }
    }

    /// Guest-physical ranges a machine of this kind gives a meaning to, for either GIC version
    /// (RAM as far as it may reach, the GIC, the UART, Xen's grant-table window and magic
    /// pages): a passed-through device (`iomem`, mapped IPA = PA) must not overlap them.
    public static func reservedForPassthrough(_ kind: Kind) -> [(what: String, base: UInt64, size: UInt64)] {
        var ranges: [(what: String, base: UInt64, size: UInt64)]
        switch kind {
        case .virt:
            ranges = [("guest RAM", ramBase.rawValue, 1 << 39), ("the GIC", 0x0800_0000, 0x0100_0000),
                      ("the UART", GuestMachine.uart.base.rawValue, uartSize)]
        case .xen:
            let gicEnd = XenDomUMachine.gicRedistributorRegion.end.rawValue, gicBase = XenDomUMachine.gicv3Distributor.base.rawValue
            ranges = [("guest RAM", ramBase.rawValue, XenDomUMachine.ram0.size), ("the GIC", gicBase, gicEnd - gicBase),
                      ("the UART", XenDomUMachine.uart.base.rawValue, uartSize)]
        }
        ranges.append(("Xen's grant-table window", XenGuestLayout.grantTableWindow.base.rawValue, XenGuestLayout.grantTableWindow.size))
        ranges.append(("Xen's magic pages", XenGuestLayout.magicPages.base.rawValue, XenGuestLayout.magicPages.size))
        return ranges
    }
}

extension GuestLayout {
    /// The device tree of this machine, handed to the guest in x0.
    public func deviceTree(memoryBytes: UInt64, vcpus: Int, bootArguments: String,
                           initrd: AddressRange<GuestPhysicalAddress>? = nil, xen: XenHypervisorNode? = nil) -> [UInt8] {
        GuestMachine.deviceTree(memoryBytes: memoryBytes, vcpus: vcpus, bootArguments: bootArguments, initrd: initrd,
                                gic: gic, layout: kind, xen: xen)
    }
}
