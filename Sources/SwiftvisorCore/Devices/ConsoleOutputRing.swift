/// Where the hypervisor's console output waits for the physical UART, so that no core writes
/// to the UART (busy-waiting on its transmit FIFO: 87 µs a byte at 115200 baud) while it holds
/// the hypervisor lock.
///
/// One producer at a time: every producer holds the hypervisor lock, and appends the final
/// byte stream (ConsoleMux framing, guest name prefixes and line ends are decided before a byte
/// is appended). One consumer at a time: whichever core holds the drain flag (a try-lock no
/// core ever waits for) sends bytes to the UART, without the hypervisor lock. The counters
/// run free (never wrap in practice: 2^64 bytes); a byte's slot is its count modulo the
/// capacity. The consumer stores `consumed` with release semantics after reading a byte, the
/// producer stores `produced` with release semantics after writing one (each loads the other's
/// counter with acquire semantics), as any single-producer single-consumer ring.
public protocol ConsoleOutputStorage {
    /// Bytes the ring holds; a power of two.
    var capacity: Int { get }
    func loadByte(_ slot: Int) -> UInt8
    func storeByte(_ slot: Int, _ value: UInt8)
    /// Bytes ever appended (load-acquire / store-release).
    func loadProduced() -> UInt64
    func storeProduced(_ value: UInt64)
    /// Bytes ever sent (load-acquire / store-release).
    func loadConsumed() -> UInt64
    func storeConsumed(_ value: UInt64)
    /// Takes the drain flag if nobody holds it (acquire); never waits.
    func tryAcquireDrain() -> Bool
    /// Gives the drain flag back (release).
    func releaseDrain()
}

public struct ConsoleOutputRing<Storage: ConsoleOutputStorage> {
    public let storage: Storage

    public init(_ storage: Storage) { self.storage = storage }

    /// Bytes waiting to be sent.
    public var count: Int { Int(truncatingIfNeeded: storage.loadProduced() &- storage.loadConsumed()) }

    public var isEmpty: Bool { storage.loadProduced() == storage.loadConsumed() }

    /// Bytes that may be appended now (only grows while the caller produces nothing).
    public var room: Int { storage.capacity - count }

    // MARK: producer (the hypervisor lock held)

    /// Appends `byte`; false, and nothing happens, when the ring is full.
    @discardableResult
    public func append(_ byte: UInt8) -> Bool {
        let produced = storage.loadProduced()
        guard produced &- storage.loadConsumed() < UInt64(storage.capacity) else { return false }
        storage.storeByte(slot(produced), byte)
        storage.storeProduced(produced &+ 1)
        return true
    }

    // MARK: consumer

    /// Sends at most `budget` bytes through `send`, taking the drain flag for it; returns how
    /// many were sent (0 when another core holds the flag: it sends them). After giving the
    /// flag back it looks again: a producer that appended while we held the flag found the flag
    /// taken and left its bytes to us (the lost wake-up), so they go out within this budget.
    @discardableResult
    public func drain(budget: Int, _ send: (UInt8) -> Void) -> Int {
        var sent = 0
        while sent < budget && !isEmpty && storage.tryAcquireDrain() {
            sent += drainHoldingFlag(budget: budget - sent, send)
            storage.releaseDrain()
        }
        return sent
    }

    /// Sends at most `budget` bytes; the caller holds the drain flag (or, in a panic, has
    /// given up waiting for it).
    @discardableResult
    public func drainHoldingFlag(budget: Int, _ send: (UInt8) -> Void) -> Int {
        var consumed = storage.loadConsumed()
        let available = storage.loadProduced() &- consumed
        let n = Int(truncatingIfNeeded: min(available, UInt64(max(budget, 0))))
        for _ in 0..<n {
            send(storage.loadByte(slot(consumed)))
            consumed &+= 1
            // Byte by byte: a producer waiting for room sees it at the UART's pace.
            storage.storeConsumed(consumed)
        }
        return n
    }

    /// Whether a byte before `mark` (a value `produced` had: a producer's position just past
    /// its last byte) still waits to be sent.
    public func isWaiting(through mark: UInt64) -> Bool { Int64(bitPattern: mark &- storage.loadConsumed()) > 0 }

    /// Sends until no byte before `mark` waits, whoever sends them, this caller sending at most
    /// `budget` (the rest at its next call); `wait` runs while another core holds the flag. A
    /// producer's own bytes thus go out after its exit even when other producers' bytes are
    /// queued ahead of them; bytes after `mark` are left to their producers. Returns the bytes
    /// this caller sent.
    @discardableResult
    public func drain(through mark: UInt64, budget: Int, wait: () -> Void, _ send: (UInt8) -> Void) -> Int {
        var sent = 0
        while sent < budget {
            let left = Int64(bitPattern: mark &- storage.loadConsumed())
            guard left > 0 else { break }
            let n = drain(budget: Int(min(left, Int64(budget - sent))), send)
            if n == 0 { wait() }
            sent += n
        }
        return sent
    }

    private func slot(_ count: UInt64) -> Int { Int(truncatingIfNeeded: count) & (storage.capacity - 1) }
}

/// How much of the ring guests' bytes may use, and how much of it a core sends per exit.
public enum ConsoleOutputBudget {
    /// The ring's size: at 115200 baud (11.5 KB/s) about 5.7 s of output.
    public static let capacity = 64 << 10
    /// Kept for the hypervisor's own messages: a guest's bytes are dropped (and counted)
    /// rather than take the last of the ring, so that the hypervisor's never wait for room
    /// unless it prints this much while the ring is otherwise full.
    public static let reservedForHypervisor = 4 << 10
    /// At most this much is sent by a core after one exit, outside the lock (its own bytes and
    /// those queued ahead of them: `ConsoleOutputRing.drain(through:)`).
    public static let perProducingExit = 512

    /// Sent per turn of an idle core's loop (it looks for work between turns).
    public static let perIdleTurn = 4096

    /// Whether a guest's `bytes` (with their name prefix and framing) fit, `room` being free.
    public static func admitsGuest(_ bytes: Int, room: Int) -> Bool { bytes + reservedForHypervisor <= room }
}

/// A guest's bytes dropped because the ring had no room for them: the first drop is reported,
/// then, with the first bytes that fit again, how many were lost (as ConsoleRateLimit does).
public struct ConsoleOutputDrops {
    /// Bytes dropped since the guest's output last fitted.
    public private(set) var dropped: UInt64 = 0

    public init() {}

    /// `bytes` did not fit; true for the first drop since output last fitted.
    public mutating func drop(_ bytes: Int) -> Bool {
        dropped &+= UInt64(max(bytes, 1))
        return dropped == UInt64(max(bytes, 1))
    }

    /// Output fits again: how many bytes were lost before it (nil when none were).
    public mutating func fits() -> UInt64? {
        guard dropped > 0 else { return nil }
        defer { dropped = 0 }
        return dropped
    }
}
