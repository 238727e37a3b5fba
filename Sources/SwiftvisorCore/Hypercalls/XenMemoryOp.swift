/// `memory_op(cmd, arg)` (public/memory.h): the sub-ops of this file; the others are -ENOSYS
/// here (`decode` is where they join).
public enum XenMemoryOp {
    /// XENMEM_add_to_physmap.
    public static let addToPhysmap: UInt64 = 7
    /// MEMOP_EXTENT_SHIFT: the command's bits above 6 are a continuation's start extent.
    public static let extentShift: UInt64 = 6
    /// XENMAPSPACE_*.
    public enum Space: UInt32 { case sharedInfo = 0, grantTable = 1, gmfn = 2, gmfnRange = 3, gmfnForeign = 4, devMMIO = 5 }

    /// `struct xen_add_to_physmap { domid_t domid; uint16_t size; unsigned int space;
    /// xen_ulong_t idx; xen_pfn_t gpfn; }`: 24 bytes on Arm.
    public static let addToPhysmapSize: UInt64 = 24
    public struct AddToPhysmap: Equatable {
        public var domid: UInt16
        public var space: UInt32
        public var index: UInt64
        public var gpfn: UInt64
        public init(domid: UInt16, space: UInt32, index: UInt64, gpfn: UInt64) {
            self.domid = domid; self.space = space; self.index = index; self.gpfn = gpfn
        }
        public init(bytes b: [UInt8]) {
            func le(_ at: Int, _ n: Int) -> UInt64 { var v: UInt64 = 0; for i in 0..<n { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }; return v }
            self.init(domid: UInt16(truncatingIfNeeded: le(0, 2)), space: UInt32(truncatingIfNeeded: le(4, 4)), index: le(8, 8), gpfn: le(16, 8))
        }
    }

    public static func decode(command: UInt64, argument: UInt64) -> Result<XenHypercall, XenABI.Errno> {
        let cmd = command & 0xFFFF_FFFF   // `unsigned long cmd`, but op and extent fit in 32 bits on Xen's side
        guard cmd & ((1 << extentShift) - 1) == addToPhysmap else { return .failure(.enosys) }
        // The start extent must fit xatp.size (uint16_t): -EDOM for "malicious or buggy input".
        guard command >> extentShift <= 0xFFFF else { return .failure(.edom) }
        return .success(.addToPhysmap(argument: argument))
    }

    /// XENMEM_add_to_physmap's checks before the space's own (common/memory.c): a foreign
    /// mapping only through the batch call (-ENOSYS), the domain (DOMID_SELF or the caller
    /// itself: another live one is -EPERM, none -ESRCH), dev_mmio for the hardware domain only
    /// (-EACCES). `isLive` says whether a domid names a live domain.
    public static func check(_ r: AddToPhysmap, caller: XenDomainID, isLive: (XenDomainID) -> Bool) -> XenABI.Errno? {
        if r.space == Space.gmfnForeign.rawValue { return .enosys }
        guard let d = XenDomainID.resolve(r.domid, caller: caller), d == caller || isLive(d) else { return .esrch }
        if r.space == Space.devMMIO.rawValue { return .eacces }
        return d == caller ? nil : .eperm
    }

    /// XENMAPSPACE_shared_info at `gpfn`: only index 0; the page must be guest RAM (swiftvisor
    /// makes one of the guest's own pages the shared_info, as Linux offers a page of its RAM);
    /// Xen 4.17 refuses a second mapping while one exists (-EBUSY).
    public static func sharedInfoPlacement(_ r: AddToPhysmap, ram: AddressRange<GuestPhysicalAddress>,
                                           mappedAt: UInt64?) -> Result<GuestPhysicalAddress, XenABI.Errno> {
        guard r.index == 0 else { return .failure(.einval) }
        guard r.gpfn < 1 << 52, ram.contains(GuestPhysicalAddress(r.gpfn << 12)) else { return .failure(.einval) }
        guard mappedAt == nil else { return .failure(.ebusy) }
        return .success(GuestPhysicalAddress(r.gpfn << 12))
    }
}
