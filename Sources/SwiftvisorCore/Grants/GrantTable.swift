/// Guest-written memory holding grant entries (the granter changes them while the hypervisor
/// looks): 32-bit loads and compare-and-swap, 16-bit atomic bit clear. The hypervisor uses
/// `__atomic` builtins on its grant-frame pages; host tests use a fake.
public protocol GrantEntryAccess {
    func load32(_ address: HostPhysicalAddress) -> UInt32
    /// Stores `desired` if the word is `expected`; returns the word found.
    func compareExchange32(_ address: HostPhysicalAddress, expected: UInt32, desired: UInt32) -> UInt32
    func clearBits16(_ address: HostPhysicalAddress, _ mask: UInt16)
    func store32(_ address: HostPhysicalAddress, _ value: UInt32)
}

/// One domain's grant table (v1): its shared frames (hypervisor pages the guest maps with
/// add_to_physmap), the hypervisor's view of each entry in use (Xen's active entries), and the
/// mappings this domain holds of other domains' grants (Xen's maptrack, indexed by handle).
public final class GrantTable {
    /// Host pages of the shared frames: the first `frameCount` are the table, the rest spares
    /// kept from an earlier boot (zeroed).
    public private(set) var frames: [HostPhysicalAddress] = []
    public private(set) var frameCount = 0
    /// Where each frame is mapped in the owner's stage 2 (nil: nowhere).
    public private(set) var frameGFNs: [GuestFrameNumber?] = []
    public let maxFrames: Int
    /// Only the entries in use, so that the hypervisor's heap holds no more than the mappings
    /// that exist (a table of 64 frames has 32768 entries); looked up by ref.
    var active: [ActiveGrant] = []
    var maptrack: [GrantMapping] = []
    /// Every handle below this one is in use.
    var lowestFree = 0
    /// Records `maptrack` and `active` have room for (what `mayAllocate` agreed to).
    var maptrackRoom = 0
    var activeRoom = 0

    /// Xen's active entry: how many mappings use entry `ref`, by whom, of which frame.
    struct ActiveGrant {
        var ref = GrantReference(0)
        var readers: UInt32 = 0
        var writers: UInt32 = 0
        var mapper: UInt16 = 0
        var frame = GuestFrameNumber(0)
        var host = HostPhysicalAddress(0)
        var pinned: Bool { readers + writers > 0 }
    }

    /// A mapping held by this domain (the mapper): granter, ref, read-only, where in its stage 2.
    /// 24 bytes (two addresses, the ref, the domid, two one-byte fields): `maptrack` costs at
    /// most 8192 x 24 = 192 KiB of hypervisor heap per domain (GrantTableABI.maximumHandles).
    public struct GrantMapping: Equatable {
        public var place = GuestFrameNumber(0)
        /// The granted page, or the mapper's scratch page once orphaned.
        public var host = HostPhysicalAddress(0)
        public var ref = GrantReference(0)
        public var granter = XenDomainID(rawValue: 0)
        public var state = State.free
        public var readOnly = false
        public var inUse: Bool { state != .free }
        public var orphaned: Bool { state == .orphaned }

        public enum State: UInt8 {
            case free
            /// Maps the granter's page; the granter's entry is pinned.
            case live
            /// The granter ended (shut down, rebooted, crashed): the place maps the mapper's own
            /// zeroed scratch page, the granter's entry is no longer pinned, and only the
            /// mapper's unmap (or its own end) frees the handle.
            case orphaned
        }
    }

    /// Asked before `maptrack` or `active` grows into a new buffer of this many bytes: false
    /// (the heap is short) and the map or copy is GNTST_no_space instead of the hypervisor
    /// running out of heap.
    let mayAllocate: (Int) -> Bool

    public init(maxFrames: Int = GrantTableABI.defaultMaxFrames, mayAllocate: @escaping (Int) -> Bool = { _ in true }) {
        self.maxFrames = maxFrames
        self.mayAllocate = mayAllocate
    }

    public var entryCount: Int { frameCount * GrantTableABI.entriesPerFrame }

    /// Grows the table to `count` frames (INITIAL_NR_GRANT_FRAMES is 1), taking spare pages
    /// first, then `allocate`'s (zeroed) ones. False if `count` exceeds the maximum or memory
    /// runs out (the frames added so far stay).
    public func grow(to count: Int, allocate: () -> HostPhysicalAddress?) -> Bool {
        guard count <= maxFrames else { return false }
        while frameCount < count {
            if frameCount == frames.count {
                guard let page = allocate() else { return false }
                frames.append(page)
                frameGFNs.append(nil)
            }
            frameCount += 1
        }
        return true
    }

    /// add_to_physmap(XENMAPSPACE_grant_table, idx): the frame to map, the table grown to hold
    /// it. As Xen 4.17 on Arm: an index at or beyond the maximum (with v1 that includes
    /// XENMAPIDX_grant_table_status) or a failed growth -EINVAL; a frame mapped elsewhere
    /// already -EBUSY (it must be removed first).
    public func frameToPlace(index: UInt64, allocate: () -> HostPhysicalAddress?) -> Result<Int, XenABI.Errno> {
        guard index < UInt64(maxFrames), grow(to: Int(index) + 1, allocate: allocate) else { return .failure(.einval) }
        guard frameGFNs[Int(index)] == nil else { return .failure(.ebusy) }
        return .success(Int(index))
    }

    /// Records where frame `index` is mapped (nil: unmapped).
    public func setPlace(ofFrame index: Int, _ gfn: GuestFrameNumber?) { frameGFNs[index] = gfn }

    /// The frame mapped at `gfn` in the owner's stage 2, if any.
    public func frameIndex(at gfn: GuestFrameNumber) -> Int? {
        for i in 0..<frameCount where frameGFNs[i] == gfn { return i }
        return nil
    }

    /// Back to a fresh domain's table (a reboot): one frame, version 1, nothing mapped or in
    /// use. The caller has torn down every mapping first and zeroes `frames`.
    public func reset() {
        frameCount = 0
        active = []
        maptrack = []
        lowestFree = 0
        maptrackRoom = 0
        activeRoom = 0
        for i in frameGFNs.indices { frameGFNs[i] = nil }
        _ = grow(to: 1) { nil }
    }

    /// True while another domain maps this domain's frame `gfn` through a grant: the page may
    /// not be freed or reused (decrease_reservation keeps it).
    public func isMapped(_ gfn: GuestFrameNumber) -> Bool {
        active.contains { $0.pinned && $0.frame == gfn }
    }

    /// Where entry `ref`'s active state is, if it is in use.
    func activeIndex(_ ref: GrantReference) -> Int? { active.firstIndex { $0.ref == ref } }

    /// Handles in use, for teardown.
    public var mappings: [(GrantHandle, GrantMapping)] {
        var list: [(GrantHandle, GrantMapping)] = []
        for (i, m) in maptrack.enumerated() where m.inUse { list.append((GrantHandle(UInt32(i)), m)) }
        return list
    }

    public func mapping(_ handle: GrantHandle) -> GrantMapping? {
        let i = Int(handle.rawValue)
        guard i < maptrack.count, maptrack[i].inUse else { return nil }
        return maptrack[i]
    }

    /// The lowest free handle, or nil when `GrantTableABI.maximumHandles` are in use. The search
    /// starts at `lowestFree` (every handle below it is in use), so that a driver domain holding
    /// thousands of mappings does not scan them all at each map.
    func freeHandle() -> GrantHandle? {
        var i = lowestFree
        while i < maptrack.count && maptrack[i].inUse { i += 1 }
        lowestFree = i
        guard i < GrantTableABI.maximumHandles else { return nil }
        if i == maptrackRoom {
            // Grown here, by doubling, so that the new buffer's size is known beforehand.
            let grown = min(max(2 * maptrackRoom, 16), GrantTableABI.maximumHandles)
            guard mayAllocate(grown * MemoryLayout<GrantMapping>.stride + Self.arrayHeaderBytes) else { return nil }
            maptrack.reserveCapacity(grown)
            maptrackRoom = grown
        }
        return GrantHandle(UInt32(i))
    }

    /// A Swift array's header before its elements (count, capacity, object header), 64-bit.
    static let arrayHeaderBytes = 32

    func record(_ handle: GrantHandle, _ m: GrantMapping) {
        let i = Int(handle.rawValue)
        if i == maptrack.count { maptrack.append(m) } else { maptrack[i] = m }
    }

    func release(_ handle: GrantHandle) {
        let i = Int(handle.rawValue)
        maptrack[i] = GrantMapping()
        lowestFree = min(lowestFree, i)
    }

    /// Mapping `handle` now maps `scratch` instead of the granter's page (`GrantOperations.orphan`).
    func orphan(_ handle: GrantHandle, scratch: HostPhysicalAddress) {
        let i = Int(handle.rawValue)
        maptrack[i].state = .orphaned
        maptrack[i].host = scratch
    }

    /// GNTTABOP_swap_grant_ref on the owner's own entries (plain copies, as Xen's): refs beyond
    /// the table bad_gntref, an entry in use eagain, the same ref twice nothing.
    public func swap<M: GrantEntryAccess>(_ a: GrantReference, _ b: GrantReference, memory: M) -> GrantStatus {
        guard Int(a.rawValue) < entryCount, Int(b.rawValue) < entryCount else { return .badGntref }
        if a == b { return .okay }
        guard activeIndex(a) == nil, activeIndex(b) == nil else { return .eagain }
        let x = headerAddress(a), y = headerAddress(b)
        let (x0, x1, y0, y1) = (memory.load32(x), memory.load32(x + 4), memory.load32(y), memory.load32(y + 4))
        memory.store32(x, y0); memory.store32(x + 4, y1)
        memory.store32(y, x0); memory.store32(y + 4, x1)
        return .okay
    }

    /// Host address of entry `ref`'s header (flags in bits 15:0, domid in 31:16) and frame.
    func headerAddress(_ ref: GrantReference) -> HostPhysicalAddress {
        let r = Int(ref.rawValue)
        return frames[r / GrantTableABI.entriesPerFrame] + UInt64(r % GrantTableABI.entriesPerFrame) * GrantTableABI.entrySize
    }
}
