/// memory_op (hypercall 12): the sub-ops a domU's balloon driver and grant-table set-up use,
/// with Xen 4.17's structures (xen/include/public/memory.h) and answers (xen/common/memory.c).
public enum XenMemoryOp {
    /// XENMEM_* commands: the low 6 bits of x0; the rest is the continuation's start extent.
    public enum Command: UInt64 {
        case increaseReservation = 0, decreaseReservation = 1, currentReservation = 3, maximumReservation = 4
        case populatePhysmap = 6, addToPhysmap = 7
    }
    public static let commandBits: UInt64 = 6
    /// CONFIG_DOMU_MAX_ORDER on Arm: the largest extent a domU may give or take.
    public static let maxOrder: UInt32 = 9

    /// XENMAPSPACE_* of add_to_physmap.
    public enum MapSpace: UInt32 {
        case sharedInfo = 0, grantTable = 1, gmfn = 2, gmfnRange = 3, gmfnForeign = 4, devMMIO = 5
    }
    /// XENMAPIDX_grant_table_status: asks for a v2 status frame (none with v1).
    public static let grantTableStatusIndex: UInt64 = 0x8000_0000

    /// `struct xen_memory_reservation` (32 bytes): extent_start (a guest handle), nr_extents,
    /// extent_order, mem_flags, domid.
    public struct Reservation: Equatable {
        public static let size: UInt64 = 32
        public var extentStart: UInt64
        public var extentCount: UInt64
        public var extentOrder: UInt32
        public var memFlags: UInt32
        public var domid: UInt16
        public init(bytes b: [UInt8]) {
            extentStart = littleEndian64(b, 0); extentCount = littleEndian64(b, 8)
            extentOrder = UInt32(truncatingIfNeeded: littleEndian64(b, 16)); memFlags = UInt32(truncatingIfNeeded: littleEndian64(b, 16) >> 32)
            domid = UInt16(truncatingIfNeeded: littleEndian64(b, 24))
        }
        public init(extentStart: UInt64, extentCount: UInt64, extentOrder: UInt32, memFlags: UInt32 = 0, domid: UInt16) {
            self.extentStart = extentStart; self.extentCount = extentCount; self.extentOrder = extentOrder
            self.memFlags = memFlags; self.domid = domid
        }
    }

    /// `struct xen_add_to_physmap` (24 bytes): domid, size, space, idx, gpfn.
    public struct AddToPhysmap: Equatable {
        public static let size: UInt64 = 24
        public var domid: UInt16
        public var space: UInt32
        public var index: UInt64
        public var gpfn: GuestFrameNumber
        public init(bytes b: [UInt8]) {
            domid = UInt16(truncatingIfNeeded: littleEndian64(b, 0)); space = UInt32(truncatingIfNeeded: littleEndian64(b, 0) >> 32)
            index = littleEndian64(b, 8); gpfn = GuestFrameNumber(littleEndian64(b, 16))
        }
        public init(domid: UInt16, space: UInt32, index: UInt64, gpfn: UInt64) {
            self.domid = domid; self.space = space; self.index = index; self.gpfn = GuestFrameNumber(gpfn)
        }
    }

    /// How a reservation sub-op starts: nil to go on with the extents, or the value returned at
    /// once (Xen returns the start extent, not an errno, for every refusal here).
    public static func refusal(_ r: Reservation, command: Command, startExtent: UInt64, caller: XenDomainID,
                               isLive: (XenDomainID) -> Bool) -> UInt64? {
        // Too many extents to encode a continuation, or nothing left to do.
        if r.extentCount > UInt64(UInt32.max) >> commandBits || startExtent >= r.extentCount { return startExtent }
        guard let d = XenDomainID.resolve(r.domid, caller: caller), isLive(d) else { return startExtent }
        // XSM (dummy policy): a domU adjusts only its own reservation.
        if d != caller { return startExtent }
        if r.extentOrder > maxOrder { return startExtent }
        return nil
    }

    /// Runs extents [start, count): `page` changes one page and says whether it could. Returns
    /// the extents done (Xen's nr_done): an extent whose list entry cannot be read, or one of
    /// whose pages fails, stops the run there.
    public static func runExtents(_ r: Reservation, start: UInt64, readFrame: (UInt64) -> UInt64?,
                                  page: (GuestFrameNumber) -> Bool) -> UInt64 {
        var i = start
        while i < r.extentCount {
            guard let first = readFrame(i) else { return i }
            for j in 0..<(UInt64(1) << UInt64(r.extentOrder)) {
                if !page(GuestFrameNumber(first &+ j)) { return i }
            }
            i += 1
        }
        return i
    }
}

/// The pages of a VM's RAM its balloon driver has given back: holes in its stage 2, each still
/// owned by the same host page (RAM is one contiguous host range), filled again by populate.
public struct RAMReservation: Equatable {
    public let ram: AddressRange<GuestPhysicalAddress>
    private var holes: [UInt64]
    public private(set) var holeCount = 0

    public init(ram: AddressRange<GuestPhysicalAddress>) {
        self.ram = ram
        holes = [UInt64](repeating: 0, count: Int((ram.size / PageSize.granule + 63) / 64))
    }

    public var maximumPages: UInt64 { ram.size / PageSize.granule }
    public var currentPages: UInt64 { maximumPages - UInt64(holeCount) }

    /// The page's index in RAM, or nil outside it.
    public func index(_ gfn: GuestFrameNumber) -> Int? {
        ram.contains(gfn.address) && gfn.rawValue < UInt64(1) << 52 ? Int(gfn.address.offset(from: ram.base) / PageSize.granule) : nil
    }

    public func isHole(_ gfn: GuestFrameNumber) -> Bool {
        guard let i = index(gfn) else { return false }
        return holes[i / 64] & (1 << UInt64(i % 64)) != 0
    }

    public mutating func setHole(_ gfn: GuestFrameNumber, _ hole: Bool) {
        guard let i = index(gfn), isHole(gfn) != hole else { return }
        holes[i / 64] ^= 1 << UInt64(i % 64)
        holeCount += hole ? 1 : -1
    }

    /// Every hole, in order (to fill them all again at a reboot).
    public var allHoles: [GuestFrameNumber] {
        var list: [GuestFrameNumber] = []
        for (w, word) in holes.enumerated() where word != 0 {
            for b in 0..<64 where word & (1 << UInt64(b)) != 0 {
                list.append(GuestFrameNumber(ram.base.rawValue >> 12 + UInt64(w * 64 + b)))
            }
        }
        return list
    }
}

@inline(__always) func littleEndian64(_ b: [UInt8], _ at: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 where at + i < b.count { v |= UInt64(b[at + i]) << UInt64(8 * i) }
    return v
}
