/// Where a guest may put a page that is not its own RAM (a grant frame, a granted page): in a
/// hole of its RAM (a ballooned-out page) or in the grant-table window of Xen's Arm guest
/// layout. Anywhere else in the 39-bit IPA space would let a guest make the hypervisor allocate
/// stage-2 tables without bound; these two need at most one table per 2 MiB of its own RAM and
/// nine for the window.
public enum GrantPlacement {
    public static func allowed(_ gfn: GuestFrameNumber, ram: AddressRange<GuestPhysicalAddress>) -> Bool {
        guard gfn.rawValue < UInt64(1) << 36 else { return false }
        return ram.contains(gfn.address) || XenGuestLayout.grantTableWindow.contains(gfn.address)
    }
}
