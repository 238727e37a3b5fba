/// `hvm_op(HVMOP_set_param / HVMOP_get_param, struct xen_hvm_param *)` as Xen 4.17 on Arm
/// answers a domU (xen/arch/arm/hvm.c, public/hvm/hvm_op.h and hvm/params.h).
public enum XenHVMParam {
    public enum Operation: UInt64 { case setParam = 0, getParam = 1, guestRequestVMEvent = 24 }

    /// HVM_PARAM_* a domU may name on Arm.
    public enum Index: UInt32 {
        case callbackIRQ = 0, storePFN = 1, storeEventChannel = 2, consolePFN = 17, consoleEventChannel = 18
        case monitorRingPFN = 28
    }

    /// DOMID_SELF (xen.h).
    public static let domidSelf: UInt16 = 0x7FF0
    /// `struct xen_hvm_param { domid_t domid; uint16_t pad; uint32_t index; uint64_t value; }`.
    public static let size: UInt64 = 16

    /// The struct's fields, decoded from its 16 little-endian bytes.
    public struct Request: Equatable {
        public var domid: UInt16
        public var index: UInt32
        public var value: UInt64
        public init(domid: UInt16, index: UInt32, value: UInt64) { self.domid = domid; self.index = index; self.value = value }
        public init(bytes b: [UInt8]) {
            func le(_ at: Int, _ n: Int) -> UInt64 { var v: UInt64 = 0; for i in 0..<n { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }; return v }
            self.init(domid: UInt16(truncatingIfNeeded: le(0, 2)), index: UInt32(truncatingIfNeeded: le(4, 4)), value: le(8, 8))
        }
        /// The bytes Xen copies back: the request as read, with `value` replaced.
        public func bytes(pad: UInt16 = 0) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 16)
            for i in 0..<2 { out[i] = UInt8(truncatingIfNeeded: domid >> (8 * UInt16(i))); out[2 + i] = UInt8(truncatingIfNeeded: pad >> (8 * UInt16(i))) }
            for i in 0..<4 { out[4 + i] = UInt8(truncatingIfNeeded: index >> (8 * UInt32(i))) }
            for i in 0..<8 { out[8 + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            return out
        }
    }

    /// HVMOP_get_param: the value, or the error Xen gives a domU. swiftvisor names no other
    /// domain, so any domid but DOMID_SELF is -ESRCH. A guest has no xenstore, no PV console
    /// and no event-channel callback, so every readable parameter is 0, as for a dom0less domU
    /// created without them.
    public static func get(_ r: Request) -> Result<UInt64, XenABI.Errno> {
        guard r.domid == domidSelf else { return .failure(.esrch) }
        switch Index(rawValue: r.index) {
        case .callbackIRQ, .storePFN, .storeEventChannel, .consolePFN, .consoleEventChannel: return .success(0)
        case .monitorRingPFN: return .failure(.eperm)        // toolstack only
        case nil: return .failure(.einval)                    // hole, deprecated or out of range
        }
    }

    /// HVMOP_set_param: a domU may set nothing. The parameters meant for the toolstack are
    /// -EPERM, every other index -EINVAL (hvm_allow_set_param).
    public static func set(_ r: Request) -> XenABI.Errno {
        guard r.domid == domidSelf else { return .esrch }
        return Index(rawValue: r.index) == nil ? .einval : .eperm
    }
}
