/// A Xen domain ID (`domid_t`, xen/include/public/xen.h). swiftvisor has no dom0: guests are
/// numbered from 1 in the order of the system description, as a dom0less Xen numbers its domUs.
public struct XenDomainID: Equatable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// DOMID_SELF: "the calling domain" wherever a domid is an argument.
    public static let selfID: UInt16 = 0x7FF0
    /// DOMID_FIRST_RESERVED: IDs from here up are never a real domain.
    public static let firstReserved: UInt16 = 0x7FF0

    /// The domain of the guest at `index` in the boot manifest.
    public init(guestIndex index: Int) { rawValue = UInt16(index + 1) }
    /// The boot manifest index of this domain's guest.
    public var guestIndex: Int { Int(rawValue) - 1 }

    /// `requested` as the caller means it: DOMID_SELF is the caller; a reserved ID is nil.
    public static func resolve(_ requested: UInt16, caller: XenDomainID) -> XenDomainID? {
        if requested == selfID { return caller }
        return requested < firstReserved ? XenDomainID(rawValue: requested) : nil
    }
}
