import _Volatile
import CGuest
import SwiftvisorCore

/// A xenstore client on the guest's ring (xs_wire.h), polling for replies as Guests/xenstore
/// does: requests go to `req`, replies come from `rsp`, watch events are dropped (the attacker
/// polls the nodes it cares about).
enum Store {
    nonisolated(unsafe) static var page: UInt64 = 0
    nonisolated(unsafe) static var port: UInt64 = 0
    nonisolated(unsafe) static var requestID: UInt32 = 0

    static func load(_ offset: Int) -> UInt32 { VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(page + UInt64(offset))).load() }
    static func store(_ offset: Int, _ v: UInt32) { VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(page + UInt64(offset))).store(v) }
    static func byte(_ offset: Int) -> UInt8 { VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(page + UInt64(offset))).load() }
    static func setByte(_ offset: Int, _ v: UInt8) { VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(page + UInt64(offset))).store(v) }

    /// Finds the store page and port (HVM_PARAM_STORE_PFN / STORE_EVTCHN); false if absent.
    static func start() -> Bool {
        let (r1, pfn) = XenEvents.hvmParam(XenHVMParam.Index.storePFN.rawValue)
        let (r2, evtchn) = XenEvents.hvmParam(XenHVMParam.Index.storeEventChannel.rawValue)
        guard r1 == 0, r2 == 0, pfn != 0 else { return false }
        page = pfn << 12; port = evtchn
        return true
    }

    static func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        let end = read_cntvct() + 5 * read_cntfrq()
        while sent < bytes.count {
            let cons = load(XenstoreRing.requestConsumerOffset), prod = load(XenstoreRing.requestProducerOffset)
            memory_barrier()
            var p = prod
            while sent < bytes.count && p &- cons < XenstoreRing.size {
                setByte(XenstoreRing.requestOffset + Int(p % XenstoreRing.size), bytes[sent])
                p &+= 1; sent += 1
            }
            memory_barrier()
            store(XenstoreRing.requestProducerOffset, p)
            _ = XenEvents.send(port)
            if sent < bytes.count {
                if read_cntvct() > end { return false }
                Guest.yield()
            }
        }
        return true
    }

    static func receive(_ count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        let end = read_cntvct() + 5 * read_cntfrq()
        while out.count < count {
            let cons = load(XenstoreRing.responseConsumerOffset), prod = load(XenstoreRing.responseProducerOffset)
            memory_barrier()
            var c = cons
            while c != prod && out.count < count {
                out.append(byte(XenstoreRing.responseOffset + Int(c % XenstoreRing.size)))
                c &+= 1
            }
            memory_barrier()
            store(XenstoreRing.responseConsumerOffset, c)
            if out.count < count {
                if read_cntvct() > end { return nil }
                Guest.yield()
            }
        }
        return out
    }

    /// Sends a request and returns its reply: (type, text with NULs as spaces).
    @discardableResult
    static func request(_ type: XenstoreWire.MessageType, _ strings: [String], terminated: Bool = true) -> (type: UInt32, text: String)? {
        var payload: [UInt8] = []
        for (i, s) in strings.enumerated() {
            payload += Array(s.utf8)
            if terminated || i < strings.count - 1 { payload.append(0) }
        }
        requestID &+= 1
        guard send(XenstoreWire.message(type: type, requestID: requestID, transactionID: 0, payload: payload)) else { return nil }
        while let h = receive(XenstoreWire.headerSize) {
            let header = XenstoreWire.Header(decoding: h)
            guard header.length <= UInt32(XenstoreWire.payloadMax), var text = receive(Int(header.length)) else { return nil }
            if header.type == XenstoreWire.MessageType.watchEvent.rawValue { continue }
            guard header.requestID == requestID else { return nil }
            if text.last == 0 { text.removeLast() }
            return (header.type, String(decoding: text.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self))
        }
        return nil
    }

    /// READ: the value, or nil (with the error's name in `error`).
    static func read(_ path: String) -> String? {
        guard let r = request(.read, [path]), r.type == XenstoreWire.MessageType.read.rawValue else { return nil }
        return r.text
    }

    /// The reply's text to a READ: the value, or the error's name ("EACCES", ...).
    static func readAnswer(_ path: String) -> String {
        request(.read, [path])?.text ?? "no reply"
    }

    @discardableResult
    static func write(_ path: String, _ value: String) -> Bool {
        guard let r = request(.write, [path, value], terminated: false) else { return false }
        return r.type == XenstoreWire.MessageType.write.rawValue
    }

    @discardableResult
    static func setPermissions(_ path: String, _ permissions: [String]) -> Bool {
        guard let r = request(.setPerms, [path] + permissions) else { return false }
        return r.type == XenstoreWire.MessageType.setPerms.rawValue
    }
}
