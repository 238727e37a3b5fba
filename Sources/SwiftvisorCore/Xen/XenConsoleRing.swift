/// The PV console's shared page, `struct xencons_interface` (xen/include/public/io/console.h):
/// `char in[1024]; char out[2048]; XENCONS_RING_IDX in_cons, in_prod, out_cons, out_prod;`.
/// The guest produces `out` and consumes `in`; the hypervisor is the backend (xenconsoled's part).
/// Indexes run freely and wrap at 2^32; a ring position is the index modulo the ring's size.
public enum XenConsoleRing {
    public static let inputOffset = 0, inputSize = 1024
    public static let outputOffset = 1024, outputSize = 2048
    static let inputConsumer = 3072, inputProducer = 3076
    static let outputConsumer = 3080, outputProducer = 3084

    /// Consumes up to `limit` bytes the guest wrote to `out`, in order, passing each to `body`;
    /// returns how many. Indexes claiming more than the ring holds are the guest's garbage:
    /// nothing is consumed, as xenconsoled ignores such a ring.
    @discardableResult
    public static func drainOutput<Page: SharedRingPage>(_ page: Page, limit: Int = outputSize, _ body: (UInt8) -> Void) -> Int {
        let consumer = page.load32(outputConsumer)
        let producer = page.load32(outputProducer)
        page.readBarrier()   // the bytes after the index that covers them
        let available = producer &- consumer
        guard available != 0, available <= UInt32(outputSize) else { return 0 }
        let count = min(Int(available), limit)
        for i in 0..<count {
            body(page.load8(outputOffset + Int((consumer &+ UInt32(i)) % UInt32(outputSize))))
        }
        page.fullBarrier()   // done reading before the guest may overwrite
        page.store32(outputConsumer, consumer &+ UInt32(count))
        return count
    }

    /// Bytes waiting in `out` (0 if the indexes are garbage).
    public static func pendingOutput<Page: SharedRingPage>(_ page: Page) -> Int {
        let available = page.load32(outputProducer) &- page.load32(outputConsumer)
        return available <= UInt32(outputSize) ? Int(available) : 0
    }

    /// Appends as much of `bytes` to `in` as fits; returns how many went in (0 when the ring
    /// is full or its indexes are garbage).
    @discardableResult
    public static func pushInput<Page: SharedRingPage>(_ page: Page, _ bytes: [UInt8]) -> Int {
        let consumer = page.load32(inputConsumer)
        let producer = page.load32(inputProducer)
        page.fullBarrier()
        let used = producer &- consumer
        guard used <= UInt32(inputSize) else { return 0 }
        let count = min(Int(UInt32(inputSize) - used), bytes.count)
        for i in 0..<count {
            page.store8(inputOffset + Int((producer &+ UInt32(i)) % UInt32(inputSize)), bytes[i])
        }
        page.fullBarrier()   // the bytes before the index that publishes them
        page.store32(inputProducer, producer &+ UInt32(count))
        return count
    }
}
