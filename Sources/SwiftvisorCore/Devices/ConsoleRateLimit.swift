/// How much of a guest's console output reaches the physical console: a token bucket of
/// `burst` bytes that refills at `bytesPerSecond`. Every byte a guest writes (PL011, console_io,
/// the PV console ring) is printed by the hypervisor on the one physical UART, one MMIO store
/// per byte, which QEMU turns into a host write under its global lock; a guest that floods
/// would hold the hypervisor, QEMU and every other guest to its pace. What it writes beyond its
/// rate is dropped and counted (as Xen drops console output when its serial buffer is full),
/// so the others keep theirs. The limits are far above what Linux prints while booting
/// (~30 KiB for a whole boot).
public struct ConsoleRateLimit {
    public static let burst: UInt64 = 128 << 10
    public static let bytesPerSecond: UInt64 = 32 << 10
    /// Once over its rate, a guest's output resumes when this much has been earned back, so
    /// that a guest writing steadily above its rate is told once, not at every byte it earns.
    public static let resumeAt: UInt64 = 32 << 10

    /// Bytes that may still go out now.
    private var tokens: UInt64
    /// Counter value the tokens were last refilled at.
    private var refilledAt: UInt64?
    /// Bytes dropped since the guest was last over its rate (reported once it is under again).
    public private(set) var dropped: UInt64 = 0

    public init() { tokens = Self.burst }

    public enum Verdict: Equatable {
        /// Print the byte.
        case print
        /// Print the byte; the guest was over its rate before and `dropped` bytes were lost.
        case printAfterDropping(UInt64)
        /// Drop the byte; `first` for the first byte dropped since the guest was last under its rate.
        case drop(first: Bool)
    }

    /// One byte written at counter value `now` (`frequency` ticks per second).
    public mutating func admit(now: UInt64, frequency: UInt64) -> Verdict {
        if refilledAt == nil { refilledAt = now }
        if tokens == 0 || dropped > 0 { refill(now: now, frequency: frequency) }
        if dropped > 0 && tokens < Self.resumeAt || tokens == 0 {
            dropped &+= 1
            return .drop(first: dropped == 1)
        }
        tokens -= 1
        guard dropped > 0 else { return .print }
        let lost = dropped
        dropped = 0
        return .printAfterDropping(lost)
    }

    /// Whether `count` bytes written at `now` are all dropped, decided once for them (a
    /// console_io chunk, without a verdict per byte under the hypervisor lock): true while the
    /// guest is over its rate and has not earned back `resumeAt`, and they are counted as
    /// `admit` would count them one by one; false, and nothing changes, otherwise (then
    /// `admit` each byte).
    public mutating func dropsAll(_ count: UInt64, now: UInt64, frequency: UInt64) -> Bool {
        guard dropped > 0 else { return false }
        refill(now: now, frequency: frequency)
        guard tokens < Self.resumeAt else { return false }
        dropped &+= count
        return true
    }

    /// Adds the tokens earned since the last refill (only when the bucket ran dry or the guest
    /// is over its rate: the common case costs no division).
    private mutating func refill(now: UInt64, frequency: UInt64) {
        guard let since = refilledAt, frequency > 0 else { refilledAt = now; return }
        let elapsed = now &- since
        // Ticks per byte at the limit's rate (frequency is tens of MHz: no overflow).
        let ticksPerByte = max(frequency / Self.bytesPerSecond, 1)
        let earned = elapsed / ticksPerByte
        guard earned > 0 else { return }
        tokens = min(Self.burst, tokens &+ earned)
        refilledAt = since &+ earned * ticksPerByte
    }

    /// A fresh start (the guest rebooted).
    public mutating func reset() { self = ConsoleRateLimit() }
}
