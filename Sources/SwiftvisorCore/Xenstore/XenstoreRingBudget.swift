/// A store ring page seen through a budget: at most `requestBudget` request bytes are taken in
/// and `responseBudget` response bytes written while it is served, so that one `service` call
/// does bounded work even if the guest feeds and drains its rings from another vCPU meanwhile
/// (the server loops while there is input and room). The server is shown a ring with less in
/// it (requests: a nearer producer) or less room (responses: a nearer consumer) than the
/// guest's indexes say; the guest's own indexes are only ever moved by as much as was really
/// read or written. Indexes that are garbage (more than a ring apart) pass through unchanged,
/// so that the server sees and refuses them. `exhausted` says a budget, not the ring, stopped
/// the server: there may be more to do, later.
public struct XenstoreRingBudget<Page: XenstoreRingPage>: XenstoreRingPage {
    public var page: Page
    public private(set) var requestBudget: UInt32
    public private(set) var responseBudget: UInt32
    public private(set) var exhausted = false
    private var requestConsumer: UInt32 = 0
    private var responseProducer: UInt32 = 0

    /// The default budget is one ring each way (XENSTORE_RING_SIZE, 1 KiB): at most 64 requests
    /// (16-byte headers) answered per service.
    public init(_ page: Page, requestBudget: UInt32 = XenstoreRing.size, responseBudget: UInt32 = XenstoreRing.size) {
        self.page = page
        self.requestBudget = requestBudget
        self.responseBudget = responseBudget
    }

    public mutating func loadWord(at offset: Int) -> UInt32 {
        switch offset {
        case XenstoreRing.requestConsumerOffset:
            requestConsumer = page.loadWord(at: offset)
            return requestConsumer
        case XenstoreRing.requestProducerOffset:
            // The server reads the consumer, then the producer (readchn).
            let producer = page.loadWord(at: offset)
            let available = producer &- requestConsumer
            guard XenstoreRing.indexesValid(consumer: requestConsumer, producer: producer), available > requestBudget else { return producer }
            exhausted = true
            return requestConsumer &+ requestBudget
        case XenstoreRing.responseConsumerOffset:
            // The server reads the consumer, then the producer (writechn): both are read here,
            // and the consumer shown leaves no more room than the budget.
            let consumer = page.loadWord(at: offset)
            responseProducer = page.loadWord(at: XenstoreRing.responseProducerOffset)
            guard XenstoreRing.indexesValid(consumer: consumer, producer: responseProducer),
                  XenstoreRing.size - (responseProducer &- consumer) > responseBudget else { return consumer }
            exhausted = true
            return responseProducer &- (XenstoreRing.size - responseBudget)
        case XenstoreRing.responseProducerOffset:
            return responseProducer
        default:
            return page.loadWord(at: offset)
        }
    }

    public mutating func storeWord(_ value: UInt32, at offset: Int) {
        if offset == XenstoreRing.requestConsumerOffset { requestBudget -= min(requestBudget, value &- requestConsumer); requestConsumer = value }
        if offset == XenstoreRing.responseProducerOffset { responseBudget -= min(responseBudget, value &- responseProducer); responseProducer = value }
        page.storeWord(value, at: offset)
    }

    public mutating func loadByte(at offset: Int) -> UInt8 { page.loadByte(at: offset) }
    public mutating func storeByte(_ value: UInt8, at offset: Int) { page.storeByte(value, at: offset) }
    public mutating func barrier() { page.barrier() }
}
