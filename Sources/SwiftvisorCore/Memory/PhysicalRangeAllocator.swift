/// Hands out host physical memory: starts from the RAM ranges of the device tree, removes
/// what is in use (the hypervisor image, the DTB, boot modules), then allocates first-fit.
/// Allocations are never returned in this version (VMs live until the machine stops).
public struct PhysicalRangeAllocator {
    public private(set) var free: [AddressRange<HostPhysicalAddress>]

    public init(ram: [AddressRange<HostPhysicalAddress>]) {
        free = ram.filter { $0.size > 0 }.sorted { $0.base < $1.base }
    }

    /// Removes [range] from the free list, wherever it overlaps.
    public mutating func reserve(_ range: AddressRange<HostPhysicalAddress>) {
        guard range.size > 0 else { return }
        var result: [AddressRange<HostPhysicalAddress>] = []
        for r in free {
            guard r.overlaps(range) else { result.append(r); continue }
            if r.base < range.base { result.append(.init(base: r.base, size: range.base.offset(from: r.base))) }
            if range.end < r.end { result.append(.init(base: range.end, size: r.end.offset(from: range.end))) }
        }
        free = result
    }

    /// `size` bytes aligned to `alignment` (a power of two), or nil when nothing fits.
    public mutating func allocate(size: UInt64, alignment: UInt64) -> HostPhysicalAddress? {
        guard size > 0 else { return nil }
        for r in free {
            let start = alignUp(r.base.rawValue, alignment)
            guard start >= r.base.rawValue, start - r.base.rawValue < r.size,
                  r.size - (start - r.base.rawValue) >= size else { continue }
            let at = HostPhysicalAddress(start)
            reserve(.init(base: at, size: size))
            return at
        }
        return nil
    }

    public var freeBytes: UInt64 { free.reduce(0) { $0 + $1.size } }
}
