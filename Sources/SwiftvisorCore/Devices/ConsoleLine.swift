/// Collects a guest's console bytes into lines, so that output from several guests is shown
/// whole-line at a time, each prefixed with its guest's name.
public struct ConsoleLine {
    public static let capacity = 160
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(Self.capacity) }

    /// Adds one byte; returns true when the line is complete and should be printed (then
    /// `take()` it). A very long line is broken at `capacity`.
    public mutating func append(_ byte: UInt8) -> Bool {
        if byte == UInt8(ascii: "\n") { return true }
        if let b = Self.printable(byte) { bytes.append(b) }
        return bytes.count >= Self.capacity
    }

    /// What of `byte` reaches the host console: printable ASCII and tabs as they are, CR
    /// dropped, other control bytes as '?' (a guest must not drive the host's terminal).
    public static func printable(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\r"): return nil
        case 0x20...0x7E, UInt8(ascii: "\t"): return byte
        default: return UInt8(ascii: "?")
        }
    }

    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    public var isEmpty: Bool { bytes.isEmpty }
}
