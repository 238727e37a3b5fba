/// The registry of emulated devices: each kind, where it sits in the guest's physical address
/// map (its VM's `GuestLayout`), and which one an address falls in. A new device is one case here, its
/// range in `GuestLayout`, and its model in a file of its own (with an `access(_:)` taking
/// an `MMIOAccess`); the data-abort handler's `switch` then makes the compiler ask for its
/// dispatch line.
public enum EmulatedDevice: Equatable {
    /// The PL011 UART (`PL011`).
    case uart
    /// The GIC distributor (`VirtualGIC.distributorAccess`, or `gicv2DistributorAccess` for a GICv2 guest).
    case gicDistributor
    /// The GICv3 redistributor frame pair of vCPU `frame` (`VirtualGIC.redistributorAccess`).
    case gicRedistributor(frame: Int)
    /// The PL031 real-time clock (`PL031`), virt layout only.
    case rtc

    /// The device at `ipa` in a VM of `layout` and the offset into it (into its own frame for
    /// a redistributor), or nil when no device is there. This is the registration table: one
    /// line per device, the hottest first (the UART: every console byte). The UART's size is
    /// the same in every layout, so its check is a load, a subtraction and a compare.
    @inlinable @inline(__always)
    public static func at(_ ipa: GuestPhysicalAddress, layout: borrowing GuestLayout, vcpus: Int) -> (device: EmulatedDevice, offset: UInt64)? {
        let uartOffset = ipa.rawValue &- layout.uartBase.rawValue
        if uartOffset < GuestLayout.uartSize { return (.uart, uartOffset) }
        if layout.gicDistributor.contains(ipa) { return (.gicDistributor, ipa.offset(from: layout.gicDistributor.base)) }
        if layout.gicRedistributors(vcpus: vcpus).contains(ipa) {
            let offset = ipa.offset(from: layout.gicRedistributorBase)
            return (.gicRedistributor(frame: Int(offset / VirtualGIC.redistributorStride)), offset % VirtualGIC.redistributorStride)
        }
        if let rtc = layout.rtc, rtc.contains(ipa) { return (.rtc, ipa.offset(from: rtc.base)) }
        return nil
    }
}
