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

/// The attacker polls the backend's state thousands of times and writes its own hundreds of
/// times; the test guests' heap is a bump allocator that never frees, so these requests use one
/// buffer and no arrays or strings: header and payload built in place, the reply read back there.
extension Store {
    nonisolated(unsafe) static let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: XenstoreWire.headerSize + XenstoreWire.payloadMax)

    static func put32(_ offset: Int, _ v: UInt32) {
        for i in 0..<4 { buffer[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
    static func get32(_ offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(buffer[offset + i]) << (8 * UInt32(i)) }
        return v
    }

    static func sendRaw(_ count: Int) -> Bool {
        var sent = 0
        let end = read_cntvct() + 5 * read_cntfrq()
        while sent < count {
            let cons = load(XenstoreRing.requestConsumerOffset), prod = load(XenstoreRing.requestProducerOffset)
            memory_barrier()
            var p = prod
            while sent < count && p &- cons < XenstoreRing.size {
                setByte(XenstoreRing.requestOffset + Int(p % XenstoreRing.size), buffer[sent])
                p &+= 1; sent += 1
            }
            memory_barrier()
            store(XenstoreRing.requestProducerOffset, p)
            _ = XenEvents.send(port)
            if sent < count {
                if read_cntvct() > end { return false }
                Guest.yield()
            }
        }
        return true
    }

    static func receiveRaw(at offset: Int, _ count: Int) -> Bool {
        var got = 0
        let end = read_cntvct() + 5 * read_cntfrq()
        while got < count {
            let cons = load(XenstoreRing.responseConsumerOffset), prod = load(XenstoreRing.responseProducerOffset)
            memory_barrier()
            var c = cons
            while c != prod && got < count {
                buffer[offset + got] = byte(XenstoreRing.responseOffset + Int(c % XenstoreRing.size))
                c &+= 1; got += 1
            }
            memory_barrier()
            store(XenstoreRing.responseConsumerOffset, c)
            if got < count {
                if read_cntvct() > end { return false }
                Guest.yield()
            }
        }
        return true
    }

    /// Sends the request whose payload (`count` bytes) is already at buffer + 16; the reply's
    /// type and length, its payload at buffer + 16.
    static func rawRequest(_ type: XenstoreWire.MessageType, payloadCount count: Int) -> (type: UInt32, length: Int)? {
        requestID &+= 1
        put32(0, type.rawValue); put32(4, requestID); put32(8, 0); put32(12, UInt32(count))
        guard sendRaw(XenstoreWire.headerSize + count) else { return nil }
        while receiveRaw(at: 0, XenstoreWire.headerSize) {
            let replyType = get32(0), id = get32(4), length = Int(get32(12))
            guard length <= XenstoreWire.payloadMax, receiveRaw(at: XenstoreWire.headerSize, length) else { return nil }
            if replyType == XenstoreWire.MessageType.watchEvent.rawValue { continue }
            guard id == requestID else { return nil }
            return (replyType, length)
        }
        return nil
    }

    /// Copies `path` and a NUL after the header; the offset after them.
    static func putPath(_ path: UnsafeBufferPointer<UInt8>) -> Int {
        var o = XenstoreWire.headerSize
        for b in path { buffer[o] = b; o += 1 }
        buffer[o] = 0
        return o + 1
    }

    /// READ of a decimal node: its value, or -1 (an error, a reply that is not a number).
    static func readInt(_ path: UnsafeBufferPointer<UInt8>) -> Int {
        let end = putPath(path)
        guard let r = rawRequest(.read, payloadCount: end - XenstoreWire.headerSize),
              r.type == XenstoreWire.MessageType.read.rawValue, r.length > 0 else { return -1 }
        var v = 0
        for i in 0..<r.length {
            let b = buffer[XenstoreWire.headerSize + i]
            if b == 0 && i == r.length - 1 { break }
            guard b >= 0x30 && b <= 0x39 else { return -1 }
            v = v * 10 + Int(b - 0x30)
        }
        return v
    }

    /// WRITE of a decimal value (0 ..< 1000); true on OK.
    @discardableResult
    static func writeInt(_ path: UnsafeBufferPointer<UInt8>, _ value: Int) -> Bool {
        var o = putPath(path)
        if value >= 100 { buffer[o] = UInt8(0x30 + value / 100 % 10); o += 1 }
        if value >= 10 { buffer[o] = UInt8(0x30 + value / 10 % 10); o += 1 }
        buffer[o] = UInt8(0x30 + value % 10); o += 1
        guard let r = rawRequest(.write, payloadCount: o - XenstoreWire.headerSize) else { return false }
        return r.type == XenstoreWire.MessageType.write.rawValue
    }
}
