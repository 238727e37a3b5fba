import CGuest
import SwiftvisorCore

/// The other side of the bench guest's world-switch loop: yields straight back. Then it answers
/// the bench guest's events: it offered domain 1 a port before the yields (the first free one:
/// after those the toolstack bound to the hypervisor's services), and for each of
/// the bench guest's rounds it polls that port (SCHEDOP_poll), clears the event and sends one
/// back. Then it powers off.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    // shared_info, where the pending bits are cleared.
    let sharedInfo = UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)))
    var xatp: (UInt64, UInt64, UInt64) = (UInt64(XenDomainID.selfID), 0, sharedInfo >> 12)
    let mapped = withUnsafeMutablePointer(to: &xatp) { xen_hypercall(XenABI.Number.memoryOp.rawValue, 7, UInt64(UInt(bitPattern: $0)), 0) } == 0
    // EVTCHNOP_alloc_unbound(self, remote domain 1): the first free port (below 64: the pending
    // word cleared below is the first).
    var alloc: (UInt32, UInt32) = (UInt32(XenDomainID.selfID) | 1 << 16, 0)
    let offered = withUnsafeMutablePointer(to: &alloc) {
        xen_hypercall(XenABI.Number.eventChannelOp.rawValue, 6, UInt64(UInt(bitPattern: $0)), 0) } == 0 && alloc.1 < 64

    for _ in 0..<21_000 { Guest.yield() }

    guard mapped, offered else { Guest.shutdown(.poweroff, exitCode: 1) }
    var port: UInt32 = alloc.1
    var send: (UInt32, UInt32) = (alloc.1, 0)
    withUnsafeMutablePointer(to: &port) { p in
        var poll: (UInt64, UInt64, UInt64) = (UInt64(UInt(bitPattern: p)), 1, 0)
        withUnsafeMutablePointer(to: &poll) { q in
            withUnsafeMutablePointer(to: &send) { s in
                let pollArg = UInt64(UInt(bitPattern: q)), sendArg = UInt64(UInt(bitPattern: s))
                for _ in 0..<2_000 {    // the bench guest's eventRounds
                    guard xen_hypercall(XenABI.Number.schedOp.rawValue, 3, pollArg, 0) == 0 else { return }
                    shared_store8(sharedInfo, 0)
                    _ = shared_fetch_and64(sharedInfo + 8, 0)
                    _ = shared_fetch_and64(sharedInfo + 48, 0)
                    _ = xen_hypercall(XenABI.Number.eventChannelOp.rawValue, 4, sendArg, 0)
                }
            }
        }
    }
    Guest.shutdown(.poweroff, exitCode: 0)
}
