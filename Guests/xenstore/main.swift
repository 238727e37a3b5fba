import _Volatile
import CGuest
import SwiftvisorCore

/// A domU speaking the xenstore protocol on its ring as Linux's xenbus does (xs_wire.h,
/// docs/misc/xenstore.txt): finds the store page and port through HVM_PARAM_STORE_PFN /
/// STORE_EVTCHN, writes requests to `req`, notifies, and reads replies from `rsp`. Reads its own
/// name and domid, writes under data/, sets a watch and sees it fire, is refused another
/// domain's nodes and read-only ones, and gets error replies for what the store does not do.
/// Two copies run (domains 1 and 2); each knows the other as 3 - its own domid.


/// The hypervisor's shared_info for this guest, mapped here (XENMEM_add_to_physmap).
nonisolated(unsafe) let sharedInfo = UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)))
nonisolated(unsafe) var page: UInt64 = 0
nonisolated(unsafe) var port: UInt64 = 0
/// Upcalls that found the store port pending.
nonisolated(unsafe) var storeEvents = 0
nonisolated(unsafe) var requestID: UInt32 = 0

/// `struct xenstore_domain_interface`: req[1024], rsp[1024], then the four indexes.
enum Ring {
    static func load(_ offset: Int) -> UInt32 { VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(page + UInt64(offset))).load() }
    static func store(_ offset: Int, _ v: UInt32) { VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(page + UInt64(offset))).store(v) }
    static func byte(_ offset: Int) -> UInt8 { VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(page + UInt64(offset))).load() }
    static func setByte(_ offset: Int, _ v: UInt8) { VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(page + UInt64(offset))).store(v) }
}

func hvmParam(_ index: UInt32) -> (Int64, UInt64) { XenEvents.hvmParam(index) }
func notify() -> Int64 { XenEvents.send(port) }

/// Writes `bytes` to the request ring (waiting for room), notifying after each piece.
func send(_ bytes: [UInt8]) -> Bool {
    var sent = 0
    let end = read_cntvct() + 2 * read_cntfrq()
    while sent < bytes.count {
        let cons = Ring.load(XenstoreRing.requestConsumerOffset), prod = Ring.load(XenstoreRing.requestProducerOffset)
        memory_barrier()
        var p = prod
        while sent < bytes.count && p &- cons < XenstoreRing.size {
            Ring.setByte(XenstoreRing.requestOffset + Int(p % XenstoreRing.size), bytes[sent])
            p &+= 1; sent += 1
        }
        memory_barrier()   // the bytes before the index
        Ring.store(XenstoreRing.requestProducerOffset, p)
        _ = notify()
        if sent < bytes.count {
            if read_cntvct() > end { return false }
            Guest.yield()
        }
    }
    return true
}

/// `count` bytes from the response ring, waiting (yielding) up to about two seconds.
func receive(_ count: Int) -> [UInt8]? {
    var out: [UInt8] = []
    let end = read_cntvct() + 2 * read_cntfrq()
    while out.count < count {
        let cons = Ring.load(XenstoreRing.responseConsumerOffset), prod = Ring.load(XenstoreRing.responseProducerOffset)
        memory_barrier()   // the bytes after the index that covers them
        var c = cons
        while c != prod && out.count < count {
            out.append(Ring.byte(XenstoreRing.responseOffset + Int(c % XenstoreRing.size)))
            c &+= 1
        }
        memory_barrier()
        Ring.store(XenstoreRing.responseConsumerOffset, c)
        if out.count < count {
            if read_cntvct() > end { return nil }
            Guest.yield()
        }
    }
    return out
}

/// One message from the response ring: its type, request ID and payload.
func receiveMessage() -> (type: UInt32, id: UInt32, payload: [UInt8])? {
    guard let h = receive(XenstoreWire.headerSize) else { return nil }
    let header = XenstoreWire.Header(decoding: h)
    guard header.length <= UInt32(XenstoreWire.payloadMax), let payload = receive(Int(header.length)) else { return nil }
    return (header.type, header.requestID, payload)
}

/// Sends a request and returns its reply (skipping watch events, which are kept for `event`).
nonisolated(unsafe) var events: [[UInt8]] = []
func request(_ type: XenstoreWire.MessageType, _ strings: [String], terminated: Bool = true) -> (type: UInt32, text: String)? {
    var payload: [UInt8] = []
    for (i, s) in strings.enumerated() {
        payload += Array(s.utf8)
        if terminated || i < strings.count - 1 { payload.append(0) }
    }
    requestID &+= 1
    guard send(XenstoreWire.message(type: type, requestID: requestID, transactionID: 0, payload: payload)) else { return nil }
    while let m = receiveMessage() {
        if m.type == XenstoreWire.MessageType.watchEvent.rawValue { events.append(m.payload); continue }
        guard m.id == requestID else { return nil }
        var text = m.payload
        if text.last == 0 { text.removeLast() }
        return (m.type, String(decoding: text.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self))
    }
    return nil
}

func isReply(_ r: (type: UInt32, text: String)?, _ type: XenstoreWire.MessageType, _ text: String) -> Bool {
    guard let r else { return false }
    return r.type == type.rawValue && r.text.utf8.elementsEqual(text.utf8)
}

/// A watch event "PATH\0TOKEN\0", waiting up to about two seconds.
func event(_ path: String, _ token: String) -> Bool {
    let want = Array(path.utf8) + [0] + Array(token.utf8) + [0]
    let end = read_cntvct() + 2 * read_cntfrq()
    while true {
        if let i = events.firstIndex(where: { $0 == want }) { events.remove(at: i); return true }
        if read_cntvct() > end { return false }
        if let m = receiveMessage(), m.type == XenstoreWire.MessageType.watchEvent.rawValue { events.append(m.payload) }
    }
}

/// The 2-level upcall on vCPU 0 (vcpu_info in shared_info): note the store port.
func upcall() {
    XenEvents.scan(sharedInfo: sharedInfo, vcpuInfo: sharedInfo) { word, pending in
        if XenEvents.includes(port, word: word, pending: pending) { storeEvents += 1 }
    }
}

@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    let (r1, pfn) = hvmParam(XenHVMParam.Index.storePFN.rawValue)
    let (r2, evtchn) = hvmParam(XenHVMParam.Index.storeEventChannel.rawValue)
    c.expect("get_param(STORE_PFN) -> 0", r1, 0)
    c.expect("get_param(STORE_EVTCHN) -> 0", r2, 0)
    c.expect("the store page is the second magic page", pfn == XenGuestLayout.magicPages.base.rawValue >> 12 + XenGuestLayout.xenstorePageOffset)
    c.expect("the store port is port 1 (the toolstack's first)", evtchn == 1)
    guard r1 == 0, r2 == 0, pfn != 0, evtchn != 0 else { c.finish() }
    page = pfn << 12; port = evtchn

    var xatp: (UInt16, UInt16, UInt32, UInt64, UInt64) = (XenHVMParam.domidSelf, 0, 0, 0, sharedInfo >> 12)
    c.expect("add_to_physmap(shared_info) -> 0",
             withUnsafeMutablePointer(to: &xatp) { xen_hypercall(XenABI.Number.memoryOp.rawValue, 7, UInt64(UInt(bitPattern: $0)), 0) }, 0)
    Interrupts.start(cpu: 0)
    Interrupts.enable(XenGuestLayout.eventChannelPPI, cpu: 0)
    Interrupts.handler = { if $0 == XenGuestLayout.eventChannelPPI { upcall() } }
    irq_enable()

    // Who am I: name and domid, as xl wrote them.
    let domid = request(.read, ["domid"])
    c.expect("READ domid -> a number", domid?.type == XenstoreWire.MessageType.read.rawValue)
    let me = domid.flatMap { Int($0.text) } ?? 0, peer = 3 - me
    c.expect("the store's domid is 1 or 2", me == 1 || me == 2)
    c.expect("an upcall on the store port came with the reply", storeEvents > 0)
    let name = request(.read, ["name"])
    c.expect("READ name -> the guest's name", name?.type == XenstoreWire.MessageType.read.rawValue)
    Guest.print("store: name " + (name?.text ?? "?") + ", domid \(me)")
    c.expect("GET_DOMAIN_PATH -> /local/domain/N", isReply(request(.getDomainPath, ["\(me)"]), .getDomainPath, "/local/domain/\(me)"))
    c.expect("READ control/platform-feature-xs_reset_watches -> 1",
             isReply(request(.read, ["control/platform-feature-xs_reset_watches"]), .read, "1"))

    // data/ is the guest's own.
    c.expect("WRITE data/greeting -> OK", isReply(request(.write, ["data/greeting", "hello"], terminated: false), .write, "OK"))
    c.expect("READ data/greeting -> hello", isReply(request(.read, ["data/greeting"]), .read, "hello"))
    c.expect("DIRECTORY data -> greeting", isReply(request(.directory, ["data"]), .directory, "greeting"))

    // A watch fires once when set, then at each change.
    c.expect("WATCH data/watched -> OK", isReply(request(.watch, ["data/watched", "tok"]), .watch, "OK"))
    c.expect("the watch fires when set", event("data/watched", "tok"))
    c.expect("WRITE data/watched -> OK", isReply(request(.write, ["data/watched", "1"], terminated: false), .write, "OK"))
    c.expect("the watch fires at the write", event("data/watched", "tok"))
    c.expect("RM data/watched -> OK", isReply(request(.rm, ["data/watched"]), .rm, "OK"))
    c.expect("the watch fires at the removal", event("data/watched", "tok"))
    c.expect("UNWATCH -> OK", isReply(request(.unwatch, ["data/watched", "tok"]), .unwatch, "OK"))

    // Refusals: another domain's nodes, read-only nodes, operations a domU may not do.
    c.expect("READ the other domain's name -> EACCES", isReply(request(.read, ["/local/domain/\(peer)/name"]), .error, "EACCES"))
    c.expect("WRITE its own name (read-only) -> EACCES", isReply(request(.write, ["name", "x"], terminated: false), .error, "EACCES"))
    c.expect("READ a node that does not exist -> ENOENT", isReply(request(.read, ["data/none"]), .error, "ENOENT"))
    c.expect("INTRODUCE -> EACCES", isReply(request(.introduce, ["5", "1", "1"]), .error, "EACCES"))
    c.expect("WATCH_EVENT as a request -> ENOSYS", isReply(request(.watchEvent, ["x"]), .error, "ENOSYS"))
    c.expect("READ the other domain's data/greeting -> EACCES",
             isReply(request(.read, ["/local/domain/\(peer)/data/greeting"]), .error, "EACCES"))
    c.finish()
}
