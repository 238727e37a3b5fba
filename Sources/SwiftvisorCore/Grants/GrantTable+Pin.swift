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
        let found = activeIndex(ref)
        let wasPinned = found != nil
        // Already in use by another domain: general error (Xen: one user per active entry).
        if let i = found, active[i].mapper != user.rawValue { return .failure(.generalError) }
        let at = headerAddress(ref)
        if found == nil || (!readOnly && active[found!].writers == 0) {
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
        let i: Int
        if let f = found { i = f } else {
            let gfn = GuestFrameNumber(UInt64(memory.load32(at + 4)))
            guard let host = backing(gfn) else {
                clearStatus(at, writersLeft: readOnly, pinned: false, memory: memory)
                return .failure(.badPage)
            }
            guard reserveActiveEntry() else {
                clearStatus(at, writersLeft: readOnly, pinned: false, memory: memory)
                return .failure(.noSpace)
            }
            active.append(ActiveGrant(ref: ref, mapper: user.rawValue, frame: gfn, host: host))
            i = active.count - 1
        }
        if readOnly { active[i].readers += 1 } else { active[i].writers += 1 }
        return .success((active[i].frame, active[i].host))
    }

    /// Room for one more active entry: the list grows by doubling, up to one per entry of the
    /// largest table (64 frames: 32768 x 32 bytes, 1 MiB), and only while `mayAllocate` agrees
    /// (the hypervisor's heap has room to spare).
    private func reserveActiveEntry() -> Bool {
        guard active.count == activeRoom else { return true }
        let grown = max(2 * activeRoom, 16)
        guard mayAllocate(grown * MemoryLayout<ActiveGrant>.stride + Self.arrayHeaderBytes) else { return false }
        active.reserveCapacity(grown)
        activeRoom = grown
        return true
    }

    /// Drops one use of `ref`; when no writer is left GTF_writing goes, when no user GTF_reading.
    func unpin<M: GrantEntryAccess>(_ ref: GrantReference, readOnly: Bool, memory: M) {
        guard let i = activeIndex(ref) else { return }
        if readOnly { active[i].readers -= 1 } else { active[i].writers -= 1 }
        let entry = active[i]
        if !entry.pinned { active.remove(at: i) }
        clearStatus(headerAddress(ref), writersLeft: readOnly || entry.writers > 0, pinned: entry.pinned, memory: memory)
    }

    /// GTF_writing goes when no writer is left (and this use was one), GTF_reading when no use is.
    private func clearStatus<M: GrantEntryAccess>(_ at: HostPhysicalAddress, writersLeft: Bool, pinned: Bool, memory: M) {
        if !writersLeft { memory.clearBits16(at, Flags.writing.rawValue) }
        if !pinned { memory.clearBits16(at, Flags.reading.rawValue) }
    }
}
