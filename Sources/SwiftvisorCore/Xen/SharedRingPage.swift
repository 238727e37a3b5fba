/// A page shared with a guest that the hypervisor serves a ring protocol on (the PV console,
/// xenstore). The guest writes it concurrently, so every value is read once into a local and
/// checked before use, and index updates are ordered after the data with barriers, as Xen's
/// backends do (xen/include/public/io/ring.h's rules for producer and consumer indexes).
public protocol SharedRingPage {
    func load8(_ offset: Int) -> UInt8
    func store8(_ offset: Int, _ value: UInt8)
    func load32(_ offset: Int) -> UInt32
    func store32(_ offset: Int, _ value: UInt32)
    /// Orders the reads before it before the reads after it (the guest's data after its index).
    func readBarrier()
    /// Orders every access before it before every access after it.
    func fullBarrier()
}
