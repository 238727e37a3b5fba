/// GNTTABOP_map_grant_ref, unmap_grant_ref and copy on the grant-table state, checking every
/// argument in Xen 4.17's order (xen/common/grant_table.c) and answering with its GNTST_*.
/// The hypervisor supplies the domains, the guest-entry memory and the stage-2 changes.
public enum GrantOperations {
    /// `struct gnttab_map_grant_ref`'s inputs.
    public struct MapRequest: Equatable {
        public var hostAddress: UInt64
        public var flags: UInt32
        public var ref: GrantReference
        public var domid: UInt16
        public init(hostAddress: UInt64, flags: UInt32, ref: GrantReference, domid: UInt16) {
            self.hostAddress = hostAddress; self.flags = flags; self.ref = ref; self.domid = domid
        }
    }

    /// What the mapper's stage 2 must do for a mapping.
    public protocol Stage2 {
        /// Maps `host` at `place` if `place` is a hole; false otherwise.
        mutating func install(_ place: GuestFrameNumber, _ host: HostPhysicalAddress, readOnly: Bool) -> Bool
        /// Removes the page at `place` if it maps `host` (with TLB maintenance); false otherwise.
        mutating func remove(_ place: GuestFrameNumber, _ host: HostPhysicalAddress) -> Bool
    }

    /// map_grant_ref: the handle and dev_bus_addr, or the status. `domains` gives live domains'
    /// tables by ID; `backing` a domain's own frame's host page (nil: not its populated RAM).
    public static func map<M: GrantEntryAccess, S: Stage2>(
        _ r: MapRequest, mapper: XenDomainID, domains: (XenDomainID) -> GrantTable?, memory: M,
        backing: (XenDomainID, GuestFrameNumber) -> HostPhysicalAddress?, stage2: inout S
    ) -> Result<(handle: GrantHandle, devBusAddress: UInt64), GrantStatus> {
        let flags = GrantTableABI.MapFlags(rawValue: r.flags)
        guard !flags.isDisjoint(with: [.deviceMap, .hostMap]) else { return .failure(.badGntref) }
        // Auto-translated guests: no device, application or PTE mappings.
        guard flags.isDisjoint(with: [.deviceMap, .applicationMap, .containsPTE]) else { return .failure(.generalError) }
        // By ID only: DOMID_SELF is not a domain here (rcu_lock_domain_by_id).
        guard r.domid < XenDomainID.firstReserved, let granterTable = domains(XenDomainID(rawValue: r.domid)),
              let ownTable = domains(mapper) else { return .failure(.badDomain) }
        guard let handle = ownTable.freeHandle() else { return .failure(.noSpace) }
        let granter = XenDomainID(rawValue: r.domid)
        let readOnly = flags.contains(.readOnly)
        let pinned = granterTable.pin(r.ref, user: mapper, readOnly: readOnly, mapping: true, memory: memory,
                                      backing: { backing(granter, $0) })
        guard case .success(let (frame, host)) = pinned else {
            if case .failure(let status) = pinned { return .failure(status) }
            return .failure(.generalError)
        }
        // create_grant_host_mapping: exactly host_map (and readonly), over a hole.
        let place = GuestFrameNumber(r.hostAddress >> 12)
        guard r.flags & ~GrantTableABI.MapFlags.readOnly.rawValue == GrantTableABI.MapFlags.hostMap.rawValue,
              stage2.install(place, host, readOnly: readOnly) else {
            granterTable.unpin(r.ref, readOnly: readOnly, memory: memory)
            return .failure(.generalError)
        }
        ownTable.record(handle, .init(place: place, host: host, ref: r.ref, granter: granter, state: .live, readOnly: readOnly))
        // Xen gives the machine address; swiftvisor never shows a host address to a guest and
        // gives the granted frame's guest-physical address in the granter instead.
        return .success((handle, frame.rawValue << 12))
    }

    /// unmap_grant_ref of `handle` at `hostAddress` (0: the host mapping is left alone, as Xen).
    public static func unmap<M: GrantEntryAccess, S: Stage2>(
        hostAddress: UInt64, handle: GrantHandle, mapper: XenDomainID, domains: (XenDomainID) -> GrantTable?,
        memory: M, stage2: inout S
    ) -> GrantStatus {
        guard let ownTable = domains(mapper), let m = ownTable.mapping(handle) else { return .badHandle }
        guard hostAddress != 0 else { return .okay }
        guard GuestFrameNumber(hostAddress >> 12) == m.place, stage2.remove(m.place, m.host) else { return .generalError }
        ownTable.release(handle)
        // An orphaned mapping pins nothing: the granter's domid may be a new boot of it whose
        // entry `m.ref` is a new grant, perhaps mapped by this same mapper.
        if !m.orphaned { domains(m.granter)?.unpin(m.ref, readOnly: m.readOnly, memory: memory) }
        return .okay
    }

    /// Ends mapping `handle` of `mapper` whatever the guest wants (teardown at the mapper's
    /// shutdown or reboot): stage 2 entry removed, the granter's entry released (if it still
    /// pins one).
    public static func revoke<M: GrantEntryAccess, S: Stage2>(
        _ handle: GrantHandle, of mapperTable: GrantTable, granterTable: GrantTable?, memory: M, stage2: inout S
    ) {
        guard let m = mapperTable.mapping(handle) else { return }
        _ = stage2.remove(m.place, m.host)
        mapperTable.release(handle)
        if !m.orphaned { granterTable?.unpin(m.ref, readOnly: m.readOnly, memory: memory) }
    }

    /// The granter of live mapping `handle` ended (its RAM will be zeroed and reused): the
    /// mapper's place switches to `scratch`, a page of the mapper's own, with the same access
    /// (stage2.remove then install: break-before-make), and the granter's entry is released.
    /// The handle stays for the mapper's unmap, as in Xen, where the mapper keeps the old page
    /// until it unmaps; here it sees a zeroed page of its own, never the granter's next boot.
    /// If the scratch page cannot be installed, the mapping is revoked instead.
    public static func orphan<M: GrantEntryAccess, S: Stage2>(
        _ handle: GrantHandle, of mapperTable: GrantTable, granterTable: GrantTable?, scratch: HostPhysicalAddress,
        memory: M, stage2: inout S
    ) {
        guard let m = mapperTable.mapping(handle), !m.orphaned else { return }
        _ = stage2.remove(m.place, m.host)
        granterTable?.unpin(m.ref, readOnly: m.readOnly, memory: memory)
        if stage2.install(m.place, scratch, readOnly: m.readOnly) {
            mapperTable.orphan(handle, scratch: scratch)
        } else {
            mapperTable.release(handle)
        }
    }
}
