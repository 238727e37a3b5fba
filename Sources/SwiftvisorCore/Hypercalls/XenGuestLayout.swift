/// The guest-physical places Xen 4.17 gives an Arm domU for its PV interfaces
/// (xen/include/public/arch-arm.h, GUEST_*), used in every guest layout: neither range is used
/// by the QEMU `virt`-like machine either.
public enum XenGuestLayout {
    /// GUEST_GNTTAB_BASE/SIZE: where the guest maps its grant-table frames (the first `reg` of
    /// the device tree's /hypervisor node).
    @inlinable public static var grantTableWindow: AddressRange<GuestPhysicalAddress> {
        AddressRange(base: GuestPhysicalAddress(0x3800_0000), size: 0x0100_0000)
    }
    /// GUEST_MAGIC_BASE/SIZE: the console and xenstore ring pages.
    @inlinable public static var magicPages: AddressRange<GuestPhysicalAddress> {
        AddressRange(base: GuestPhysicalAddress(0x3900_0000), size: 0x0100_0000)
    }
    /// Offsets in pages from GUEST_MAGIC_BASE (xen/include/public/arch-arm.h, *_PFN_OFFSET).
    public static let consolePageOffset: UInt64 = 0
    public static let xenstorePageOffset: UInt64 = 1
    /// GUEST_EVTCHN_PPI: the event-channel upcall, a PPI on every vCPU.
    public static let eventChannelPPI: UInt32 = 31
}
