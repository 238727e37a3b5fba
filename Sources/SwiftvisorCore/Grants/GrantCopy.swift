/// GNTTABOP_copy: one `struct gnttab_copy`, each side a grant reference of another domain
/// (GNTCOPY_source_gref / GNTCOPY_dest_gref) or a frame of the caller's own (then its domid
/// must be DOMID_SELF). The grants are pinned only while the bytes move (Xen's
/// acquire_grant_for_copy / release_grant_for_copy).
public enum GrantCopy {
    /// `struct gnttab_copy_ptr`: a ref or gmfn, a domid, an offset in the page.
    public struct Pointer: Equatable {
        public var refOrFrame: UInt64
        public var domid: UInt16
        public var offset: UInt16
        public init(refOrFrame: UInt64, domid: UInt16, offset: UInt16) {
            self.refOrFrame = refOrFrame; self.domid = domid; self.offset = offset
        }
    }

    public struct Request: Equatable {
        public var source: Pointer
        public var dest: Pointer
        public var length: UInt16
        public var flags: UInt16
        public init(source: Pointer, dest: Pointer, length: UInt16, flags: UInt16) {
            self.source = source; self.dest = dest; self.length = length; self.flags = flags
        }
    }

    /// Runs one copy; `move(dest, source, length)` copies between host addresses. `backing` is
    /// as for map; for the caller's own frames, `ownFrame(gfn, write)` gives the host page.
    public static func perform<M: GrantEntryAccess>(
        _ r: Request, caller: XenDomainID, domains: (XenDomainID) -> GrantTable?, memory: M,
        backing: (XenDomainID, GuestFrameNumber) -> HostPhysicalAddress?,
        move: (HostPhysicalAddress, HostPhysicalAddress, Int) -> Void
    ) -> GrantStatus {
        let flags = GrantTableABI.CopyFlags(rawValue: r.flags)
        // gnttab_copy_lock_domains: both domains first.
        let source: XenDomainID, dest: XenDomainID
        switch (domain(r.source, gref: flags.contains(.sourceGref), caller: caller, domains),
                domain(r.dest, gref: flags.contains(.destGref), caller: caller, domains)) {
        case (.failure(let s), _), (_, .failure(let s)): return s
        case (.success(let s), .success(let d)): source = s; dest = d
        }
        var pins: [(GrantTable, GrantReference, Bool)] = []
        defer { for (table, ref, readOnly) in pins { table.unpin(ref, readOnly: readOnly, memory: memory) } }
        func claim(_ p: Pointer, _ owner: XenDomainID, gref: Bool, write: Bool) -> Result<HostPhysicalAddress, GrantStatus> {
            guard gref else {
                guard let host = backing(owner, GuestFrameNumber(p.refOrFrame)) else { return .failure(.badPage) }
                return .success(host)
            }
            guard let table = domains(owner) else { return .failure(.badDomain) }
            // A grant_ref_t is 32 bits: the rest of the union is not looked at.
            let ref = GrantReference(UInt32(truncatingIfNeeded: p.refOrFrame))
            switch table.pin(ref, user: caller, readOnly: !write, mapping: false, memory: memory,
                             backing: { backing(owner, $0) }) {
            case .failure(let s): return .failure(s)
            case .success(let (_, host)):
                pins.append((table, ref, !write))
                return .success(host)
            }
        }
        let from: HostPhysicalAddress, to: HostPhysicalAddress
        switch claim(r.source, source, gref: flags.contains(.sourceGref), write: false) {
        case .failure(let s): return s
        case .success(let h): from = h
        }
        switch claim(r.dest, dest, gref: flags.contains(.destGref), write: true) {
        case .failure(let s): return s
        case .success(let h): to = h
        }
        let page = PageSize.granule
        guard UInt64(r.source.offset) + UInt64(r.length) <= page, UInt64(r.dest.offset) + UInt64(r.length) <= page else {
            return .badCopyArg
        }
        move(to + UInt64(r.dest.offset), from + UInt64(r.source.offset), Int(r.length))
        return .okay
    }

    /// Only DOMID_SELF may name a frame; a ref's domid may be any live domain (or DOMID_SELF).
    static func domain(_ p: Pointer, gref: Bool, caller: XenDomainID, _ domains: (XenDomainID) -> GrantTable?)
        -> Result<XenDomainID, GrantStatus> {
        if !gref && p.domid != XenDomainID.selfID { return .failure(.permissionDenied) }
        guard let d = XenDomainID.resolve(p.domid, caller: caller), domains(d) != nil else { return .failure(.badDomain) }
        return .success(d)
    }
}
