/// XENMEM_add_to_physmap's common checks and its shared_info space (the rest of memory_op is
/// `XenMemoryOp` in Grants/).
extension XenMemoryOp {
    /// XENMEM_add_to_physmap's checks before the space's own (common/memory.c): a foreign
    /// mapping only through the batch call (-ENOSYS), the domain (DOMID_SELF or the caller
    /// itself: another live one is -EPERM, none -ESRCH), dev_mmio for the hardware domain only
    /// (-EACCES). `isLive` says whether a domid names a live domain.
    public static func check(_ r: AddToPhysmap, caller: XenDomainID, isLive: (XenDomainID) -> Bool) -> XenABI.Errno? {
        if r.space == MapSpace.gmfnForeign.rawValue { return .enosys }
        guard let d = XenDomainID.resolve(r.domid, caller: caller), d == caller || isLive(d) else { return .esrch }
        if r.space == MapSpace.devMMIO.rawValue { return .eacces }
        return d == caller ? nil : .eperm
    }

    /// XENMAPSPACE_shared_info at `gpfn`: only index 0; the page must be guest RAM (swiftvisor
    /// makes one of the guest's own pages the shared_info, as Linux offers a page of its RAM);
    /// Xen 4.17 refuses a second mapping while one exists (-EBUSY).
    public static func sharedInfoPlacement(_ r: AddToPhysmap, ram: AddressRange<GuestPhysicalAddress>,
                                           mappedAt: UInt64?) -> Result<GuestPhysicalAddress, XenABI.Errno> {
        guard r.index == 0 else { return .failure(.einval) }
        let gpfn = r.gpfn.rawValue
        guard gpfn < 1 << 52, ram.contains(GuestPhysicalAddress(gpfn << 12)) else { return .failure(.einval) }
        guard mappedAt == nil else { return .failure(.ebusy) }
        return .success(GuestPhysicalAddress(gpfn << 12))
    }
}
