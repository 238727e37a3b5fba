/// Little-endian reads one byte at a time: correct for any alignment, even with the MMU off.
extension UnsafeRawBufferPointer {
    @inline(__always) func le(_ offset: Int, _ size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<size).reversed() { v = v << 8 | UInt64(self[offset + i]) }
        return v
    }
    func le16(_ o: Int) -> UInt16 { UInt16(le(o, 2)) }
    func le32(_ o: Int) -> UInt32 { UInt32(le(o, 4)) }
    func le64(_ o: Int) -> UInt64 { le(o, 8) }
}

extension Array where Element == UInt8 {
    mutating func appendLE(_ v: UInt64, size: Int) {
        for i in 0..<size { append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
    }
}
