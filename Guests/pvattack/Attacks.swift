import CGuest
import SwiftvisorCore

/// netif.h's rings (xen/include/public/io/netif.h, ring.h): a 64-byte header (req_prod,
/// req_event, rsp_prod, rsp_event, padding), then 12-byte tx slots (netif_tx_request: gref,
/// offset, flags, id, size; netif_tx_response: id, status) and 8-byte rx slots
/// (netif_rx_request: id, pad, gref).
enum NetifRing {
    static let header: UInt64 = 64, txSlot: UInt64 = 12, rxSlot: UInt64 = 8
}

/// (b): requests on a ring netback has mapped, naming grants that are not the backend's, then
/// an impossible producer index (netback.c: "Impossible number of requests", the vif disabled).
func ringAttacks(tx: UInt64, rx: UInt64, port: Int64, spare: UInt64, third: UInt64) {
    let rxRefs: [UInt32] = (0..<8).map { 400 + $0 }
    for (i, ref) in rxRefs.enumerated() {
        let e = rx + NetifRing.header + UInt64(i) * NetifRing.rxSlot
        Xen.store16(e, UInt16(i)); Xen.store16(e + 2, 0); Xen.store32(e + 4, ref)
    }
    memory_barrier()
    Xen.store32(rx, UInt32(rxRefs.count))

    Xen.grant(30, to: UInt32(third), frame: spare)
    let requests: [(gref: UInt32, id: UInt16)] = [(300, 0), (30, 1), (70000, 2), (301, 7777)]
    for (i, r) in requests.enumerated() {
        let e = tx + NetifRing.header + UInt64(i) * NetifRing.txSlot
        Xen.store32(e, r.gref); Xen.store16(e + 4, 0); Xen.store16(e + 6, 0); Xen.store16(e + 8, r.id); Xen.store16(e + 10, 60)
    }
    memory_barrier()
    Xen.store32(tx, UInt32(requests.count))
    _ = Xen.send(UInt64(port))
    let end = seconds(15)
    while Xen.load32(tx + 8) < UInt32(requests.count) && read_cntvct() < end { Guest.yield() }
    let answered = Xen.load32(tx + 8)
    var statuses: [Int64] = []
    for i in 0..<min(Int(answered), requests.count) {
        let e = tx + NetifRing.header + UInt64(i) * NetifRing.txSlot
        statuses.append(Int64(Int16(truncatingIfNeeded: Xen.load32(e) >> 16)))
    }
    say("tx requests naming refs never granted, granted to domain \(third), beyond its table, with id 7777: netback answered \(answered) of \(requests.count), statuses " + histogram(statuses))
    let rxAnswered = Xen.load32(rx + 8)
    var rxStatuses: [Int64] = []
    for i in 0..<min(Int(rxAnswered), rxRefs.count) {
        rxStatuses.append(Int64(Int16(truncatingIfNeeded: Xen.load32(rx + NetifRing.header + UInt64(i) * NetifRing.rxSlot + 4) >> 16)))
    }
    say("rx requests naming refs never granted: netback answered \(rxAnswered) of \(rxRefs.count)" + (rxStatuses.isEmpty ? "" : ", statuses " + histogram(rxStatuses)))

    Xen.store32(tx, UInt32(requests.count) + 0x10000)
    _ = Xen.send(UInt64(port))
    let wait = seconds(3)
    while read_cntvct() < wait { Guest.yield() }
    say("tx req_prod 65536 ahead of its consumer: backend in state " + stateName(backendState()))
}

/// (e): the third guest's grants (domain `third`) and the backend's, mapped and copied
/// directly, and their xenstore nodes: every answer must be an error.
func thirdGuest(_ c: inout Checks, third: UInt64, backendID: UInt64) {
    let place = Xen.page(), scratch = Xen.page()
    c.expect("balloon out a page to map onto", Xen.balloonOut(place >> 12), 1)
    let refs = 0..<UInt64(512)
    for (domid, name) in [(third, "domain \(third)'s (the third guest)"), (backendID, "the backend's (domain \(backendID))")] {
        let maps = refs.map { Xen.map(ref: $0, of: domid, at: place, readOnly: true) }
        let from = refs.map { Xen.copy(fromRef: $0, of: domid, into: scratch >> 12) }
        let into = refs.map { Xen.copy(intoRef: $0, of: domid, from: scratch >> 12) }
        let got = maps.filter { $0 == 0 }.count + from.filter { $0 == 0 }.count + into.filter { $0 == 0 }.count
        say(name + " grants, refs 0-511: map " + histogram(maps) + "; copy from " + histogram(from) + "; copy into " + histogram(into)
            + "; \(got) succeeded")
        c.expect("no map or copy of another domain's grant succeeds", got == 0)
    }
    // Its RAM named by frame (GNTCOPY without gref): not the attacker's to name.
    let op = Xen.buffer(5)
    op[0] = 0x40000; op[1] = third; op[2] = scratch >> 12; op[3] = Xen.selfID; op[4] = 64 | 0x7777 << 32
    let r = Xen.grantOp(.copy, Xen.address(op))
    let status = r == 0 ? Int64(Int16(truncatingIfNeeded: op[4] >> 32)) : r
    say("copy from domain \(third)'s frame 0x40000: status \(status)")
    c.expect("copy from the third guest's frame -> GNTST_permission_denied", status, Int64(GrantStatus.permissionDenied.rawValue))

    let nodes = ["/local/domain/\(third)/device/vif/0/tx-ring-ref", "/local/domain/\(backendID)/backend/vif/\(third)/0/state"]
    for n in nodes {
        let a = Store.readAnswer(n)
        say("READ " + n + ": " + a)
        c.expect("the third guest's nodes are not readable", a.utf8.elementsEqual("EACCES".utf8))
    }
    for n in nodes + [backend + "/state"] {
        let r = Store.request(.write, [n, "6"], terminated: false)
        say("WRITE " + n + " = 6: " + (r?.text ?? "no reply"))
        c.expect("another domain's nodes are not writable", r?.type == XenstoreWire.MessageType.error.rawValue)
    }
}
