import CGuest
import SwiftvisorCore

/// The guest side of Xen's 2-level event channels and HVM parameters, as Linux's domU code
/// drives them (drivers/xen/events/events_2l.c, include/xen/hvm.h), for the test guests.
public enum XenEvents {
    /// shared_info's evtchn_pending[64] and evtchn_mask[64] (xen/include/public/xen.h; on arm64
    /// they follow the one 48-byte vcpu_info).
    public static let pendingOffset: UInt64 = 48, maskOffset: UInt64 = 560

    /// The upcall's scan (evtchn_2l_handle_events): clears `vcpuInfo`'s evtchn_upcall_pending,
    /// takes its evtchn_pending_sel, and for each selected word takes the unmasked pending bits
    /// out of shared_info's evtchn_pending, passing (word, bits) to `body`. Atomic, as the
    /// hypervisor sets these words concurrently.
    public static func scan(sharedInfo: UInt64, vcpuInfo: UInt64, _ body: (_ word: UInt64, _ pending: UInt64) -> Void) {
        shared_store8(vcpuInfo, 0)
        memory_barrier()
        var selector = shared_xchg64(vcpuInfo + 8, 0)
        while selector != 0 {
            let word = UInt64(selector.trailingZeroBitCount)
            selector &= selector - 1
            let pending = shared_load64(sharedInfo + pendingOffset + 8 * word) & ~shared_load64(sharedInfo + maskOffset + 8 * word)
            _ = shared_fetch_and64(sharedInfo + pendingOffset + 8 * word, ~pending)
            body(word, pending)
        }
    }

    /// Whether `port`'s bit is in word `word`'s `pending` bits.
    public static func includes(_ port: UInt64, word: UInt64, pending: UInt64) -> Bool {
        word == port / 64 && pending & (1 << (port % 64)) != 0
    }

    /// HVMOP_get_param(DOMID_SELF, index): (result, value).
    public static func hvmParam(_ index: UInt32) -> (Int64, UInt64) {
        var p: (UInt16, UInt16, UInt32, UInt64) = (XenHVMParam.domidSelf, 0, index, 0xDEAD)
        let r = withUnsafeMutablePointer(to: &p) {
            xen_hypercall(XenABI.Number.hvmOp.rawValue, XenHVMParam.Operation.getParam.rawValue, UInt64(UInt(bitPattern: $0)), 0)
        }
        return (r, p.3)
    }

    /// EVTCHNOP_send on `port`.
    public static func send(_ port: UInt64) -> Int64 {
        var a: (UInt32, UInt32) = (UInt32(port), 0)
        return withUnsafeMutablePointer(to: &a) { xen_hypercall(XenABI.Number.eventChannelOp.rawValue, 4, UInt64(UInt(bitPattern: $0)), 0) }
    }
}
