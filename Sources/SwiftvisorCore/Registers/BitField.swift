/// Bit-field helpers for the typed register values in this folder.
@usableFromInline @inline(__always) func bits(_ value: UInt64, _ high: Int, _ low: Int) -> UInt64 {
    (value >> UInt64(low)) & ((1 << UInt64(high - low + 1)) &- 1)
}

@usableFromInline @inline(__always) func bit(_ value: UInt64, _ n: Int) -> Bool { value & (1 << UInt64(n)) != 0 }

@inline(__always) func setting(_ value: UInt64, _ n: Int, _ on: Bool) -> UInt64 {
    on ? value | (1 << UInt64(n)) : value & ~(1 << UInt64(n))
}

@inline(__always) func setting(_ value: UInt64, _ high: Int, _ low: Int, to field: UInt64) -> UInt64 {
    let mask: UInt64 = ((1 << UInt64(high - low + 1)) &- 1) << UInt64(low)
    return (value & ~mask) | ((field << UInt64(low)) & mask)
}
