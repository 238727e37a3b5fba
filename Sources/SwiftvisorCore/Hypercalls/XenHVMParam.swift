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

    /// What the toolstack set for the guest: its xenstore and PV console pages (guest frame
    /// numbers) and ports. All 0 for a guest without them, as Xen leaves them.
    public struct Values: Equatable {
        public var storePFN: UInt64 = 0
        public var storeEventChannel: UInt64 = 0
        public var consolePFN: UInt64 = 0
        public var consoleEventChannel: UInt64 = 0
        public init(storePFN: UInt64 = 0, storeEventChannel: UInt64 = 0, consolePFN: UInt64 = 0, consoleEventChannel: UInt64 = 0) {
            self.storePFN = storePFN; self.storeEventChannel = storeEventChannel
            self.consolePFN = consolePFN; self.consoleEventChannel = consoleEventChannel
        }
    }

    /// HVMOP_get_param: the value, or the error Xen gives a domU. Any domid but DOMID_SELF is
    /// -ESRCH. The store and console parameters are those the toolstack set (`values`, as
    /// libxl sets them for an xl-created domU: the magic pages and the ports bound to the
    /// hypervisor's services); the callback IRQ is 0 (Arm delivers events on the PPI).
    public static func get(_ r: Request, values: Values = Values()) -> Result<UInt64, XenABI.Errno> {
        guard r.domid == domidSelf else { return .failure(.esrch) }
        switch Index(rawValue: r.index) {
        case .callbackIRQ: return .success(0)
        case .storePFN: return .success(values.storePFN)
        case .storeEventChannel: return .success(values.storeEventChannel)
        case .consolePFN: return .success(values.consolePFN)
        case .consoleEventChannel: return .success(values.consoleEventChannel)
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

extension XenHVMParam.Values {
    /// The values for a guest whose store and console ports (from `EventChannels.connect`)
    /// are these: each service that has a port gets its magic page's frame number
    /// (GUEST_MAGIC_BASE + XENSTORE_PFN_OFFSET / CONSOLE_PFN_OFFSET); one without stays 0.
    public init(storePort: UInt32?, consolePort: UInt32?) {
        let magic = XenGuestLayout.magicPages.base.rawValue / PageSize.granule
        self.init()
        if let storePort { storePFN = magic + XenGuestLayout.xenstorePageOffset; storeEventChannel = UInt64(storePort) }
        if let consolePort { consolePFN = magic + XenGuestLayout.consolePageOffset; consoleEventChannel = UInt64(consolePort) }
    }
}

extension XenEnhanced {
    /// The hypervisor's services a guest is connected to at boot: xenstore only when
    /// "enabled" (as dom0less Xen allocates the store port only for an enhanced domU), the PV
    /// console unless "disabled" (a guest told nothing of Xen gets neither).
    public var services: [EventChannels.Service] {
        switch self {
        case .enabled: return [.xenstore, .console]
        case .noXenstore: return [.console]
        case .disabled: return []
        }
    }
}
