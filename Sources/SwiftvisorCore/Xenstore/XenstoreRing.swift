/// Access to one guest's store ring page, `struct xenstore_domain_interface` of xs_wire.h:
/// req[1024] at 0, rsp[1024] at 1024, then the XENSTORE_RING_IDX words req_cons (2048),
/// req_prod (2052), rsp_cons (2056), rsp_prod (2060), server_features (2064), connection (2068)
/// and error (2072). The hypervisor backs it with the guest's page; host tests with an array.
/// The guest writes this page concurrently: every index is read once per use and checked.
public protocol XenstoreRingPage {
    mutating func loadWord(at offset: Int) -> UInt32
    mutating func storeWord(_ value: UInt32, at offset: Int)
    mutating func loadByte(at offset: Int) -> UInt8
    mutating func storeByte(_ value: UInt8, at offset: Int)
    /// A full barrier between the index and data accesses (xenstored's xen_mb(); `dmb ish`).
    mutating func barrier()
}

/// The layout and numbers of the ring page (xs_wire.h).
public enum XenstoreRing {
    /// XENSTORE_RING_SIZE.
    public static let size: UInt32 = 1024
    public static let requestOffset = 0
    public static let responseOffset = 1024
    public static let requestConsumerOffset = 2048
    public static let requestProducerOffset = 2052
    public static let responseConsumerOffset = 2056
    public static let responseProducerOffset = 2060
    public static let serverFeaturesOffset = 2064
    public static let connectionOffset = 2068
    public static let errorOffset = 2072
    /// The bytes of the page the server touches.
    public static let pageBytes = 2076

    /// The `error` field's values (XENSTORE_ERROR_*).
    public enum Failure: UInt32 {
        case communication = 1
        /// An index pair with more than a ring's worth between them.
        case ringIndex = 2
        /// A message longer than XENSTORE_PAYLOAD_MAX.
        case protocolViolation = 3
    }

    /// check_indexes: a producer at most a ring's size ahead of its consumer.
    static func indexesValid(consumer: UInt32, producer: UInt32) -> Bool { producer &- consumer <= size }
}

extension XenstoreServer {
    /// Serves guest `domid`'s ring (after its event-channel notification, or whenever the
    /// hypervisor likes): queued replies and events go out as far as the response ring has room,
    /// then complete requests are taken in and answered, while fewer than the outstanding-request
    /// quota wait. Returns true if an index moved, i.e. the guest must be notified on its store
    /// event channel. A guest that breaks the protocol (an index pair more than a ring apart, a
    /// message longer than XENSTORE_PAYLOAD_MAX) has its connection ignored from then on, with
    /// the reason in the page's `error` field, as xenstored's ignore_connection.
    public func service<Page: XenstoreRingPage>(domid: UInt16, page: inout Page) -> Bool {
        guard domid != 0, let index = connectionIndex(UInt32(domid)), !connections[index].ignored else { return false }
        var notify = false
        guard flush(index, &page, &notify) else { return notify }
        while connections[index].outstandingReplies < quota.outstandingRequests || connections[index].privileged {
            var input = connections[index].input
            let wanted = input.count < XenstoreWire.headerSize
                ? XenstoreWire.headerSize - input.count
                : XenstoreWire.headerSize + Int(XenstoreWire.Header(decoding: input).length) - input.count
            guard let got = readRequest(&page, into: &input, upTo: wanted) else {
                ignore(index, .ringIndex, &page)
                return notify
            }
            if got > 0 { notify = true }
            if input.count == XenstoreWire.headerSize && got > 0 {
                if XenstoreWire.Header(decoding: input).length > UInt32(XenstoreWire.payloadMax) {
                    ignore(index, .protocolViolation, &page)
                    return notify
                }
            }
            let complete = input.count >= XenstoreWire.headerSize
                && input.count == XenstoreWire.headerSize + Int(XenstoreWire.Header(decoding: input).length)
            if complete {
                connections[index].input = []
                let header = XenstoreWire.Header(decoding: input)
                process(connection: index, header: header, payload: Array(input[XenstoreWire.headerSize...]))
                guard flush(index, &page, &notify) else { return notify }
            } else {
                connections[index].input = input
                if got == 0 { break }
            }
        }
        return notify
    }

    /// readchn: up to `count` request bytes appended to `input`; nil if the indexes are garbage.
    private func readRequest<Page: XenstoreRingPage>(_ page: inout Page, into input: inout [UInt8], upTo count: Int) -> Int? {
        let consumer = page.loadWord(at: XenstoreRing.requestConsumerOffset)
        let producer = page.loadWord(at: XenstoreRing.requestProducerOffset)
        page.barrier()
        guard XenstoreRing.indexesValid(consumer: consumer, producer: producer) else { return nil }
        let available = Int(producer &- consumer)
        let n = min(available, count)
        for i in 0..<n {
            let at = Int((consumer &+ UInt32(i)) & (XenstoreRing.size - 1))
            input.append(page.loadByte(at: XenstoreRing.requestOffset + at))
        }
        if n > 0 {
            page.barrier()
            page.storeWord(consumer &+ UInt32(n), at: XenstoreRing.requestConsumerOffset)
        }
        return n
    }

    /// writechn: as much queued output as the response ring takes. False if the indexes are
    /// garbage (the connection is then ignored).
    private func flush<Page: XenstoreRingPage>(_ index: Int, _ page: inout Page, _ notify: inout Bool) -> Bool {
        while let message = connections[index].output.first {
            let consumer = page.loadWord(at: XenstoreRing.responseConsumerOffset)
            let producer = page.loadWord(at: XenstoreRing.responseProducerOffset)
            page.barrier()
            guard XenstoreRing.indexesValid(consumer: consumer, producer: producer) else {
                ignore(index, .ringIndex, &page)
                return false
            }
            let room = Int(XenstoreRing.size - (producer &- consumer))
            let sent = connections[index].outputSent
            let n = min(room, message.count - sent)
            if n == 0 { return true }
            for i in 0..<n {
                let at = Int((producer &+ UInt32(i)) & (XenstoreRing.size - 1))
                page.storeByte(message[sent + i], at: XenstoreRing.responseOffset + at)
            }
            page.barrier()
            page.storeWord(producer &+ UInt32(n), at: XenstoreRing.responseProducerOffset)
            notify = true
            if sent + n == message.count {
                connections[index].output.removeFirst()
                connections[index].outputIsEvent.removeFirst()
                connections[index].outputSent = 0
            } else {
                connections[index].outputSent = sent + n
            }
        }
        return true
    }

    /// ignore_connection: the guest's watches, transactions and queued messages are dropped and
    /// nothing more is read or written; the page's `error` says why.
    private func ignore<Page: XenstoreRingPage>(_ index: Int, _ failure: XenstoreRing.Failure, _ page: inout Page) {
        page.storeWord(failure.rawValue, at: XenstoreRing.errorOffset)
        connections[index].ignored = true
        connections[index].reset()
    }

    /// The guests with replies or watch events waiting to be written to their rings: a change by
    /// one guest or by the hypervisor can fire another guest's watches, so after each `service`
    /// or API call the caller serves these too (and notifies those for which it returns true).
    public var domainsAwaitingService: [UInt16] {
        var out: [UInt16] = []
        for c in connections where c.domid != 0 && !c.ignored && !c.output.isEmpty { out.append(UInt16(c.domid)) }
        return out
    }

    /// Whether the server stopped talking to `domid` because it broke the ring protocol.
    public func isIgnored(_ domid: UInt16) -> Bool {
        guard let index = connectionIndex(UInt32(domid)) else { return false }
        return connections[index].ignored
    }
}
