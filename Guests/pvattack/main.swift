import CGuest
import SwiftvisorCore

/// A hostile netfront (issue 10 §3): given a vif whose backend is a Linux driver domain
/// (netback, domain 1), it goes through the xenbus handshake as drivers/net/xen-netfront.c does
/// but lies at each step netback trusts it (drivers/net/xen-netback/xenbus.c connect(),
/// connect_data_rings(), read_xenbus_vif_flags(); netback.c's ring checks): ring references it
/// never granted or granted elsewhere, event channels that are not the backend's, a valid ring
/// with requests naming grants it does not own and an impossible producer index, floods of
/// notifications and of state writes, and direct maps and copies of a third guest's grants
/// (domain 2, a Linux frontend of the same driver domain). One line per attack,
/// "pvattack: WHAT: what came of it". The checks (exit code) are only what the hypervisor must
/// guarantee: every answer about the third guest is an error. At the end it writes its
/// data/pvattack = done, readable by all, so that the third guest knows the attacks are over,
/// and stays a minute for it to see the node.
let frontend = "device/vif/0"
nonisolated(unsafe) var backend = ""
let states: [StaticString] = ["Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing", "Closed",
                              "Reconfiguring", "Reconfigured"]

func say(_ s: String) { Guest.print("pvattack: " + s) }
func seconds(_ n: UInt64) -> UInt64 { read_cntvct() + n * read_cntfrq() }

func stateName(_ n: Int) -> String {
    n >= 0 && n < states.count ? "\(n) (\(states[n]))" : "\(n)"
}
/// The two paths polled and written most, as bytes once (Store.readInt/writeInt allocate nothing).
nonisolated(unsafe) var backendStatePath: [UInt8] = []
let frontendStatePath: [UInt8] = Array((frontend + "/state").utf8)
func backendState() -> Int { backendStatePath.withUnsafeBufferPointer { Store.readInt($0) } }

/// Polls the backend's state until it is one of `want` or `limit` seconds pass; the last seen.
@discardableResult
func waitBackend(_ want: [Int], seconds limit: UInt64) -> Int {
    let end = seconds(limit)
    var s = backendState()
    while !want.contains(s) && read_cntvct() < end {
        for _ in 0..<200 { Guest.yield() }
        s = backendState()
    }
    return s
}

func setFrontendState(_ n: Int) { frontendStatePath.withUnsafeBufferPointer { _ = Store.writeInt($0, n) } }

/// Writes the keys netfront writes (talk_to_netback), then Connected; the backend's answer.
func connect(tx: UInt64, rx: UInt64, port: Int64, then: () -> Void = {}) -> Int {
    for (key, ref) in [("/tx-ring-ref", tx), ("/rx-ring-ref", rx)] {
        if ref == 0 { Store.request(.rm, [frontend + key]) } else { Store.write(frontend + key, "\(ref)") }
    }
    Store.write(frontend + "/event-channel", "\(port)")
    Store.write(frontend + "/request-rx-copy", "1")
    Store.write(frontend + "/feature-rx-notify", "1")
    Store.write(frontend + "/feature-sg", "1")
    setFrontendState(4)
    then()
    return settle(waitBackend([4, 5, 6], seconds: 30))
}

/// The backend's states over the next three seconds after `first` (netback may pass through
/// Closing, from xenbus_dev_fatal, on its way to another state): "5 (Closing), then 4 (Connected)".
nonisolated(unsafe) var seen = ""
func settle(_ first: Int) -> Int {
    var last = first
    seen = stateName(first)
    let end = seconds(3)
    while read_cntvct() < end {
        for _ in 0..<100 { Guest.yield() }
        let s = backendState()
        if s != last { seen += ", then " + stateName(s); last = s }
    }
    return last
}

/// Back to a fresh handshake: Closed, then Initialising, which netback answers with InitWait
/// ("prepare for reconnect").
func reset() -> Int {
    setFrontendState(5)
    _ = waitBackend([5, 6], seconds: 10)
    setFrontendState(6)
    _ = waitBackend([6], seconds: 30)
    setFrontendState(1)
    return waitBackend([2], seconds: 30)
}

func attack(_ what: String, tx: UInt64, rx: UInt64, port: Int64, then: () -> Void = {}) {
    _ = connect(tx: tx, rx: rx, port: port, then: then)
    let states = seen
    say(what + ": backend went to state " + states + "; reset: backend in state " + stateName(reset()))
}

/// Counts of each status in `results`, "status:count ...".
func histogram(_ results: [Int64]) -> String {
    var counts: [(Int64, Int)] = []
    for r in results {
        if let i = counts.firstIndex(where: { $0.0 == r }) { counts[i].1 += 1 } else { counts.append((r, 1)) }
    }
    var out = ""
    for (r, n) in counts { out += (out.isEmpty ? "" : " ") + "\(r)x\(n)" }
    return out
}

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    c.expect("the store page and port are given", Store.start())
    let sharedInfo = Xen.page()
    c.expect("add_to_physmap(shared_info) -> 0", Xen.addToPhysmap(space: 0, index: 0, gpfn: sharedInfo >> 12), 0)
    c.expect("add_to_physmap(grant_table, 0) -> 0", Xen.addToPhysmap(space: 1, index: 0, gpfn: Xen.grantWindow >> 12), 0)
    let me = Store.read("domid").flatMap { Int($0) } ?? 0
    // swiftvisor writes the vif's nodes once the backend's domain talks to the store.
    let backendIDPath = Array((frontend + "/backend-id").utf8)
    let appear = seconds(300)
    while backendIDPath.withUnsafeBufferPointer({ Store.readInt($0) }) < 0 && read_cntvct() < appear {
        for _ in 0..<500 { Guest.yield() }
    }
    let path = Store.read(frontend + "/backend")
    guard let path, let backendID = Store.read(frontend + "/backend-id").flatMap({ UInt16($0) }) else {
        say("no vif: nothing to attack")
        c.finish()
    }
    backend = path
    backendStatePath = Array((path + "/state").utf8)
    let third: UInt64 = 2   // gamma, the driver domain's other frontend
    say("domain \(me), vif backend \(backend) (domain \(backendID))")
    let s0 = waitBackend([2], seconds: 300)
    say("backend in state " + stateName(s0))

    // Pages of its own: two rings, and grant entries for them.
    let txRing = Xen.page(), rxRing = Xen.page(), spare = Xen.page()
    let txRef: UInt64 = 8, rxRef: UInt64 = 9, elsewhereTx: UInt64 = 20, elsewhereRx: UInt64 = 21, endedTx: UInt64 = 22, endedRx: UInt64 = 23

    // (a) ring references.
    attack("Connected without ring references", tx: 0, rx: 0, port: 0)
    let good = Xen.allocUnbound(remote: backendID)
    attack("tx-ring-ref/rx-ring-ref never granted (refs 300, 301)", tx: 300, rx: 301, port: good)
    attack("ring refs beyond its grant table (refs 70000, 70001)", tx: 70000, rx: 70001, port: good)
    Xen.grant(elsewhereTx, to: UInt32(third), frame: txRing); Xen.grant(elsewhereRx, to: UInt32(third), frame: rxRing)
    attack("ring refs granted to domain \(third), not the backend", tx: elsewhereTx, rx: elsewhereRx, port: good)
    Xen.grant(endedTx, to: UInt32(backendID), frame: txRing); Xen.grant(endedRx, to: UInt32(backendID), frame: rxRing)
    Xen.revoke(endedTx); Xen.revoke(endedRx)
    attack("ring refs granted then ended before Connected", tx: endedTx, rx: endedRx, port: good)
    Xen.grant(endedTx, to: UInt32(backendID), frame: txRing); Xen.grant(endedRx, to: UInt32(backendID), frame: rxRing)
    attack("ring refs ended right after Connected", tx: endedTx, rx: endedRx, port: good) { Xen.revoke(endedTx); Xen.revoke(endedRx) }

    // (c) event channels.
    Xen.grant(txRef, to: UInt32(backendID), frame: txRing); Xen.grant(rxRef, to: UInt32(backendID), frame: rxRing)
    attack("event-channel = its xenstore port \(Store.port)", tx: txRef, rx: rxRef, port: Int64(Store.port))
    let forThird = Xen.allocUnbound(remote: UInt16(third))
    attack("event-channel = a port unbound for domain \(third)", tx: txRef, rx: rxRef, port: forThird)
    attack("event-channel = port 4000, never allocated", tx: txRef, rx: rxRef, port: 4000)
    let closing = Xen.allocUnbound(remote: backendID)
    attack("event-channel closed right after Connected", tx: txRef, rx: rxRef, port: closing) { _ = Xen.close(closing) }

    // (b) a valid connection, then lies on the rings.
    let port = Xen.allocUnbound(remote: backendID)
    initialiseRings(tx: txRing, rx: rxRing)
    let connected = connect(tx: txRef, rx: rxRef, port: port)
    say("valid rings and port \(port): backend went to state " + seen)
    if connected == 4 {
        ringAttacks(tx: txRing, rx: rxRing, port: port, spare: spare, third: third)
        say("balloon out its tx ring page while netback maps it: decrease_reservation -> \(Xen.balloonOut(txRing >> 12)) done")
        // (d) notifications.
        var ok = 0
        for _ in 0..<20000 where Xen.send(UInt64(port)) == 0 { ok += 1 }
        say("20000 notifications on port \(port): \(ok) sent, backend in state " + stateName(backendState()))
        Xen.revoke(txRef); Xen.revoke(rxRef)
        say("ended access to both mapped ring grants; closed its port: \(Xen.close(port))")
        for _ in 0..<2000 where Xen.send(UInt64(port)) == 0 { ok += 1 }
        say("reset after that: backend in state " + stateName(reset()))
    }

    // (d) state writes.
    Xen.grant(txRef, to: UInt32(backendID), frame: txRing); Xen.grant(rxRef, to: UInt32(backendID), frame: rxRing)
    let cyclePort = Xen.allocUnbound(remote: backendID)
    Store.write(frontend + "/event-channel", "\(cyclePort)")
    for _ in 0..<40 { for s in [3, 4, 5, 6, 1, 4, 2, 7, 99] { setFrontendState(s) } }
    say("360 state writes (Initialised/Connected/Closing/Closed/...): backend in state " + stateName(backendState())
        + "; reset: backend in state " + stateName(reset()))

    // (e) the third guest's grants and nodes, directly.
    thirdGuest(&c, third: third, backendID: UInt64(backendID))

    // At last a well-behaved connection: the backend still serves.
    let last = Xen.allocUnbound(remote: backendID)
    initialiseRings(tx: spare, rx: rxRing)
    Xen.grant(txRef, to: UInt32(backendID), frame: spare); Xen.grant(rxRef, to: UInt32(backendID), frame: rxRing)
    _ = connect(tx: txRef, rx: rxRef, port: last)
    say("a clean connection at the end: backend went to state " + seen)

    c.expect("WRITE data/pvattack = done", Store.write("data/pvattack", "done"))
    c.expect("SET_PERMS data/pvattack readable by all", Store.setPermissions("data/pvattack", ["r\(me)"]))
    say("done")
    let end = seconds(60)
    while read_cntvct() < end { Guest.yield() }
    c.finish()
}

extension Xen {
    static func send(_ port: UInt64) -> Int64 { XenEvents.send(port) }
}

/// SHARED_RING_INIT for both rings (req_event = rsp_event = 1), as netfront does.
func initialiseRings(tx: UInt64, rx: UInt64) {
    for r in [tx, rx] {
        Xen.store32(r, 0); Xen.store32(r + 4, 1); Xen.store32(r + 8, 0); Xen.store32(r + 12, 1)
    }
}
