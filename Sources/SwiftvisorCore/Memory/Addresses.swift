/// Intermediate physical address: what a guest believes is physical memory (stage-2 input).
public struct GuestPhysicalAddress: Equatable, Comparable {
    public var rawValue: UInt64
    @inlinable @inline(__always) public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    @inline(__always) public static func + (a: Self, offset: UInt64) -> Self { Self(a.rawValue &+ offset) }
    @inlinable @inline(__always) public func offset(from base: Self) -> UInt64 { rawValue &- base.rawValue }
}

/// Host physical address: the machine's real memory (stage-2 output, EL2's identity map).
public struct HostPhysicalAddress: Equatable, Comparable {
    public var rawValue: UInt64
    @inline(__always) public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    @inline(__always) public static func + (a: Self, offset: UInt64) -> Self { Self(a.rawValue &+ offset) }
    @inlinable @inline(__always) public func offset(from base: Self) -> UInt64 { rawValue &- base.rawValue }
}

/// Virtual machine identifier tagging stage-2 TLB entries (VTTBR_EL2.VMID).
public struct VMID: Equatable {
    public var rawValue: UInt16
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }
}

/// Index of a virtual CPU within its VM.
public struct VCPUID: Equatable {
    public var rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
}

/// A half-open range of addresses [base, base + size).
public struct AddressRange<Address: Comparable & Equatable>: Equatable {
    public var base: Address
    public var size: UInt64
    @inlinable public init(base: Address, size: UInt64) { self.base = base; self.size = size }
}

extension AddressRange where Address == GuestPhysicalAddress {
    public var end: GuestPhysicalAddress { base + size }
    @inlinable @inline(__always) public func contains(_ a: GuestPhysicalAddress) -> Bool {
        a >= base && a.offset(from: base) < size
    }
    /// True when [a, a + length) lies wholly inside the range.
    public func contains(_ a: GuestPhysicalAddress, length: UInt64) -> Bool {
        guard contains(a) else { return false }
        return length <= size - a.offset(from: base)
    }
}

extension AddressRange where Address == HostPhysicalAddress {
    public var end: HostPhysicalAddress { base + size }
    public func contains(_ a: HostPhysicalAddress) -> Bool {
        a >= base && a.offset(from: base) < size
    }
    public func overlaps(_ other: Self) -> Bool {
        base < other.end && other.base < end
    }
}

public enum PageSize {
    /// Translation granule used everywhere (4 KiB, Arm ARM D8.1).
    public static let granule: UInt64 = 4096
    public static let level2Block: UInt64 = 2 << 20
    public static let level1Block: UInt64 = 1 << 30
}

@inline(__always) public func alignUp(_ v: UInt64, _ a: UInt64) -> UInt64 { (v &+ a &- 1) & ~(a &- 1) }
@inline(__always) public func alignDown(_ v: UInt64, _ a: UInt64) -> UInt64 { v & ~(a &- 1) }
@inline(__always) public func isAligned(_ v: UInt64, _ a: UInt64) -> Bool { v & (a &- 1) == 0 }
