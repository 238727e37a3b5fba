/// Watches a guest's console output, a byte at a time, for Linux's "Kernel panic - " (the
/// start of every panic message), so that the hypervisor can show a panicked guest as
/// crashed: such a guest keeps running (it spins, or reboots itself after `panic=N`).
public struct KernelPanicWatch {
    static let needle: StaticString = "Kernel panic - "
    var matched = 0
    public private(set) var seen = false

    public init() {}

    /// Part of the phrase has been seen: the next bytes must all be fed to `accept`. (When
    /// false, bytes before the phrase's first letter cannot start a match and may be skipped.)
    public var isMatching: Bool { matched > 0 }

    /// The phrase's first letter.
    public static var firstByte: UInt8 { needle.utf8Start[0] }

    /// One byte of output; true the first time the whole phrase has been seen.
    /// (The phrase's first letter does not recur in it, so a mismatch can restart at 0 or 1.)
    @inline(__always)
    public mutating func accept(_ byte: UInt8) -> Bool {
        let n = Self.needle.utf8CodeUnitCount
        let bytes = Self.needle.utf8Start
        if byte == bytes[matched] {
            matched += 1
            if matched == n {
                matched = 0
                if !seen { seen = true; return true }
            }
        } else {
            matched = byte == bytes[0] ? 1 : 0
        }
        return false
    }
}
