/// Collects a guest's console bytes into lines, so that output from several guests is shown
/// whole-line at a time, each prefixed with its guest's name.
public struct ConsoleLine {
    public static let capacity = 160
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(Self.capacity) }

    /// Adds one byte; returns true when the line is complete and should be printed (then
    /// `take()` it). A very long line is broken at `capacity`.
    public mutating func append(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "\n"): return true
        case UInt8(ascii: "\r"): return false
        case 0x20...0x7E, UInt8(ascii: "\t"): bytes.append(byte)
        default: bytes.append(UInt8(ascii: "?"))  // keep the host console sane
        }
        return bytes.count >= Self.capacity
    }

    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    public var isEmpty: Bool { bytes.isEmpty }
}
