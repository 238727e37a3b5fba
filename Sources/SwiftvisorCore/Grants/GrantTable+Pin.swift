/// The granter's side of a grant in use (Xen's `_set_status_v1` and its undo): GTF_reading and
/// GTF_writing are set in the guest's entry with compare-and-swap, checking that the entry
/// still permits access to the user and, for writing, is not read-only.
extension GrantTable {
    typealias Flags = GrantTableABI.EntryFlags

    /// Pins entry `ref` for `user` and returns the granted frame. `backing` turns the entry's
    /// frame (a gfn of this domain) into its host page, or nil if it is not this domain's RAM.
    /// `mapping`: a host mapping, which also refuses GTF_sub_page.
    func pin<M: GrantEntryAccess>(_ ref: GrantReference, user: XenDomainID, readOnly: Bool, mapping: Bool,
                                  memory: M, backing: (GuestFrameNumber) -> HostPhysicalAddress?)
        -> Result<(GuestFrameNumber, HostPhysicalAddress), GrantStatus> {
        guard Int(ref.rawValue) < entryCount else { return .failure(.badGntref) }
        let r = Int(ref.rawValue)
        let wasPinned = active[r].pinned
        // Already in use by another domain: general error (Xen: one user per active entry).
        if wasPinned && active[r].mapper != user.rawValue { return .failure(.generalError) }
        let at = headerAddress(ref)
        if !wasPinned || (!readOnly && active[r].writers == 0) {
            let mask = Flags.typeMask | (mapping ? Flags.subPage.rawValue : 0)
            var seen = memory.load32(at)
            var retries = 0
            while true {
                let flags = UInt16(truncatingIfNeeded: seen), domid = UInt16(truncatingIfNeeded: seen >> 16)
                if !wasPinned && (flags & mask != Flags.permitAccess.rawValue || domid != user.rawValue) {
                    return .failure(.generalError)
                }
                var new = flags | Flags.reading.rawValue
                if !readOnly {
                    new |= Flags.writing.rawValue
                    if flags & Flags.readOnly.rawValue != 0 { return .failure(.generalError) }
                }
                let desired = seen & 0xFFFF_0000 | UInt32(new)
                let found = memory.compareExchange32(at, expected: seen, desired: desired)
                if found == seen { break }
                // The guest keeps changing it: give up after five tries, as Xen does.
                if retries == 4 { return .failure(.generalError) }
                retries += 1
                seen = found
            }
        }
        if !wasPinned {
            let gfn = GuestFrameNumber(UInt64(memory.load32(at + 4)))
            guard let host = backing(gfn) else {
                clearStatus(ref, readOnly: readOnly, memory: memory)
                return .failure(.badPage)
            }
            active[r].frame = gfn
            active[r].host = host
            active[r].mapper = user.rawValue
        }
        if readOnly { active[r].readers += 1 } else { active[r].writers += 1 }
        return .success((active[r].frame, active[r].host))
    }

    /// Drops one use of `ref`; when no writer is left GTF_writing goes, when no user GTF_reading.
    func unpin<M: GrantEntryAccess>(_ ref: GrantReference, readOnly: Bool, memory: M) {
        let r = Int(ref.rawValue)
        if readOnly { active[r].readers -= 1 } else { active[r].writers -= 1 }
        clearStatus(ref, readOnly: readOnly, memory: memory)
    }

    private func clearStatus<M: GrantEntryAccess>(_ ref: GrantReference, readOnly: Bool, memory: M) {
        let r = Int(ref.rawValue)
        let at = headerAddress(ref)
        if !readOnly && active[r].writers == 0 { memory.clearBits16(at, Flags.writing.rawValue) }
        if !active[r].pinned { memory.clearBits16(at, Flags.reading.rawValue) }
    }
}
