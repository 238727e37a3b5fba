@testable import SwiftvisorCore

/// A store ring page in an array, for host tests and the fuzzer.
struct ArrayRingPage: XenstoreRingPage {
    var bytes = [UInt8](repeating: 0, count: 4096)
    mutating func loadWord(at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
    mutating func storeWord(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) }
    }
    mutating func loadByte(at offset: Int) -> UInt8 { bytes[offset] }
    mutating func storeByte(_ value: UInt8, at offset: Int) { bytes[offset] = value }
    mutating func barrier() {}

    var error: UInt32 { mutating get { loadWord(at: XenstoreRing.errorOffset) } }
}

struct XenstoreReply: Equatable {
    var type: UInt32
    var requestID: UInt32
    var transactionID: UInt32
    var payload: [UInt8]

    var text: String { String(decoding: payload, as: UTF8.self) }
    /// The NUL-terminated strings of the payload.
    var strings: [String] { XenstoreBytes.strings(payload).map { String(decoding: payload[$0], as: UTF8.self) } }
    var isError: Bool { type == XenstoreWire.MessageType.error.rawValue }
}

/// A guest's side of the store ring, as Linux's xenbus_comms.c drives it.
final class XenstoreGuest {
    let server: XenstoreServer
    let domid: UInt16
    var page = ArrayRingPage()
    var nextRequestID: UInt32 = 1
    /// Watch events received, oldest first.
    var events: [[String]] = []
    var received: [UInt8] = []

    init(_ server: XenstoreServer, domid: UInt16, startIndex: UInt32 = 0) {
        self.server = server
        self.domid = domid
        for offset in [XenstoreRing.requestConsumerOffset, XenstoreRing.requestProducerOffset,
                       XenstoreRing.responseConsumerOffset, XenstoreRing.responseProducerOffset] {
            page.storeWord(startIndex, at: offset)
        }
    }

    /// Puts raw bytes in the request ring (as many as fit) without asking the server.
    @discardableResult
    func put(_ bytes: [UInt8]) -> Int {
        let cons = page.loadWord(at: XenstoreRing.requestConsumerOffset)
        var prod = page.loadWord(at: XenstoreRing.requestProducerOffset)
        var n = 0
        for b in bytes where prod &- cons < XenstoreRing.size {
            page.storeByte(b, at: Int(prod & (XenstoreRing.size - 1)))
            prod &+= 1
            n += 1
        }
        page.storeWord(prod, at: XenstoreRing.requestProducerOffset)
        return n
    }

    /// Takes what the server put in the response ring.
    func drain() {
        var cons = page.loadWord(at: XenstoreRing.responseConsumerOffset)
        let prod = page.loadWord(at: XenstoreRing.responseProducerOffset)
        guard prod &- cons <= XenstoreRing.size else { return }
        while cons != prod {
            received.append(page.loadByte(at: XenstoreRing.responseOffset + Int(cons & (XenstoreRing.size - 1))))
            cons &+= 1
        }
        page.storeWord(cons, at: XenstoreRing.responseConsumerOffset)
    }

    /// Complete messages received so far, removed from the buffer; events go to `events`.
    func messages() -> [XenstoreReply] {
        var out: [XenstoreReply] = []
        while received.count >= 16 {
            let h = XenstoreWire.Header(decoding: received)
            guard received.count >= 16 + Int(h.length) else { break }
            let r = XenstoreReply(type: h.type, requestID: h.requestID, transactionID: h.transactionID,
                                  payload: Array(received[16..<(16 + Int(h.length))]))
            received.removeFirst(16 + Int(h.length))
            if r.type == XenstoreWire.MessageType.watchEvent.rawValue { events.append(r.strings) } else { out.append(r) }
        }
        return out
    }

    /// Replies received and not yet claimed by `call`.
    var replies: [XenstoreReply] = []

    /// Lets the server serve the ring (as after an event-channel notification) and takes what it wrote.
    @discardableResult
    func service() -> Bool {
        let notify = server.service(domid: domid, page: &page)
        drain()
        replies += messages()
        return notify
    }

    /// Sends one request with `strings` (each NUL-terminated unless `raw`) and returns its reply.
    @discardableResult
    func call(_ type: XenstoreWire.MessageType, _ strings: [String], tx: UInt32 = 0, raw: [UInt8]? = nil) -> XenstoreReply {
        var payload: [UInt8] = []
        for s in strings { payload += Array(s.utf8) + [0] }
        if let raw { payload = raw }
        return callRaw(type.rawValue, payload, tx: tx)
    }

    func callRaw(_ type: UInt32, _ payload: [UInt8], tx: UInt32 = 0) -> XenstoreReply {
        let id = nextRequestID
        nextRequestID += 1
        let message = XenstoreWire.Header(type: type, requestID: id, transactionID: tx, length: UInt32(payload.count)).bytes + payload
        var rest = message[...]
        while !rest.isEmpty {
            let n = put(Array(rest))
            rest = rest.dropFirst(n)
            service()
        }
        for _ in 0..<4 where replies.isEmpty { service() }
        return replies.isEmpty ? XenstoreReply(type: 0xFFFF, requestID: 0, transactionID: 0, payload: []) : replies.removeFirst()
    }

    // Conveniences.
    func read(_ path: String, tx: UInt32 = 0) -> XenstoreReply { call(.read, [path], tx: tx) }
    func write(_ path: String, _ value: String, tx: UInt32 = 0) -> XenstoreReply {
        call(.write, [], tx: tx, raw: Array(path.utf8) + [0] + Array(value.utf8))
    }
}

extension XenstoreServer {
    /// Introduces a guest the way the hypervisor will: name "guestN", a UUID made from N.
    func introduceGuest(_ domid: UInt16, vcpus: Int = 1) {
        introduce(XenstoreDomainInfo(domid: domid, name: Array("guest\(domid)".utf8),
                                     uuid: [UInt8](repeating: UInt8(domid), count: 16), vcpus: vcpus, memoryKiB: 131072))
    }

    func text(_ path: String) -> String? { value(at: Array(path.utf8)).map { String(decoding: $0, as: UTF8.self) } }
}
