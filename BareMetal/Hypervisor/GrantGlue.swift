import CArch
import SwiftvisorCore

/// Grant entries in the hypervisor's grant-frame pages, through `__atomic` builtins.
struct GrantFrameMemory: GrantEntryAccess {
    // SAFETY (all three): the core computes addresses inside a grant frame the hypervisor
    // allocated (identity mapped, Normal memory), 4-byte aligned entries.
    func load32(_ a: HostPhysicalAddress) -> UInt32 { guest_atomic_load32(a.rawValue) }
    func compareExchange32(_ a: HostPhysicalAddress, expected: UInt32, desired: UInt32) -> UInt32 {
        guest_compare_exchange32(a.rawValue, expected, desired)
    }
    func clearBits16(_ a: HostPhysicalAddress, _ mask: UInt16) { guest_atomic_clear16(a.rawValue, mask) }
    func store32(_ a: HostPhysicalAddress, _ value: UInt32) { guest_atomic_store32(a.rawValue, value) }
}

/// TLB maintenance for one VM's stage 2, on every core (its vCPUs may run anywhere).
struct VMStage2TLB: Stage2TLBMaintenance {
    let vttbr: UInt64
    func invalidate(ipa: UInt64) { stage2_invalidate_ipa(vttbr, ipa) }
}

/// A mapper's stage 2 as grant mappings change it: pages over holes only (of its RAM, or in
/// the grant-table window: `GrantPlacement`), read-only for
/// GNTMAP_readonly, never executable (Xen's p2m_grant_map_rw/ro are XN).
struct GrantStage2: GrantOperations.Stage2 {
    let vm: VirtualMachine
    func install(_ place: GuestFrameNumber, _ host: HostPhysicalAddress, readOnly: Bool) -> Bool {
        guard GrantPlacement.allowed(place, ram: vm.ram) else { return false }
        let attributes = Stage2Attributes(memory: .normal, access: readOnly ? .readOnly : .readWrite, executable: false)
        do { try vm.stage2.mapPage(input: place.address.rawValue, output: host, attributes: attributes) } catch { return false }
        return true
    }
    func remove(_ place: GuestFrameNumber, _ host: HostPhysicalAddress) -> Bool {
        guard vm.stage2.translate(place.address.rawValue)?.output == host else { return false }
        var tlb = VMStage2TLB(vttbr: vm.vttbr)
        return (try? vm.stage2.unmapPage(input: place.address.rawValue, tlb: &tlb)) != nil
    }
}

extension Hypervisor {
    /// A live domain's grant table (with its first frame: INITIAL_NR_GRANT_FRAMES), or nil.
    func grantTable(_ domid: XenDomainID) -> GrantTable? {
        guard let vm = vm(domid), vm.state == .running else { return nil }
        if vm.grants.frameCount == 0 { _ = vm.grants.grow(to: 1) { allocateGrantFrame() } }
        return vm.grants
    }

    /// A zeroed hypervisor page for a grant frame (never returned: kept for the next boot).
    func allocateGrantFrame() -> HostPhysicalAddress? {
        guard let page = allocator?.pointee.allocate(size: PageSize.granule, alignment: PageSize.granule) else { return nil }
        zero_memory(page.rawValue, PageSize.granule)
        return page
    }

    /// The host page of `domid`'s own frame `gfn`: populated RAM of a live domain, else nil.
    func ownFrame(_ domid: XenDomainID, _ gfn: GuestFrameNumber) -> HostPhysicalAddress? {
        guard let vm = vm(domid), vm.state == .running, let i = vm.reservation.index(gfn), !vm.reservation.isHole(gfn) else {
            return nil
        }
        return vm.hostRAM.base + UInt64(i) * PageSize.granule
    }

    /// At `vm`'s shutdown or reboot, before its RAM can be zeroed or reused (no guest reads
    /// another's next boot): every grant mapping it holds ends, and every live mapping others
    /// hold of its pages is orphaned: it shows the mapper's own zeroed scratch page until the
    /// mapper unmaps it, so a backend still touching a dead frontend's ring takes no fault.
    /// (Called again when a rebooting VM reloads: mappings orphaned already are left alone.)
    func releaseGrants(of vm: VirtualMachine) {
        let memory = GrantFrameMemory()
        var mine = GrantStage2(vm: vm)
        for (handle, m) in vm.grants.mappings {
            GrantOperations.revoke(handle, of: vm.grants, granterTable: self.vm(m.granter)?.grants, memory: memory, stage2: &mine)
        }
        for other in vms where other !== vm {
            var theirs = GrantStage2(vm: other)
            var scratch: HostPhysicalAddress?
            for (handle, m) in other.grants.mappings where m.granter == vm.domid && !m.orphaned {
                if scratch == nil { scratch = orphanScratch(of: other) }
                if let scratch {
                    GrantOperations.orphan(handle, of: other.grants, granterTable: vm.grants, scratch: scratch,
                                           memory: memory, stage2: &theirs)
                } else {
                    GrantOperations.revoke(handle, of: other.grants, granterTable: vm.grants, memory: memory, stage2: &theirs)
                }
            }
        }
    }

    /// `vm`'s scratch page, allocated at its first orphaned mapping (a hypervisor page, kept
    /// for good), zeroed at each orphaning: what it wrote through an earlier orphaned mapping
    /// is gone, as the granter's data is. nil if the allocator is empty (the mapping is then
    /// removed, as before orphaning existed).
    func orphanScratch(of vm: VirtualMachine) -> HostPhysicalAddress? {
        if vm.grantScratch == nil {
            vm.grantScratch = allocator?.pointee.allocate(size: PageSize.granule, alignment: PageSize.granule)
        }
        // SAFETY: a hypervisor page (identity mapped, Normal memory) that only `vm` maps.
        if let page = vm.grantScratch { zero_memory(page.rawValue, PageSize.granule) }
        return vm.grantScratch
    }

    /// Before a VM boots again: its ballooned-out pages are RAM again, its grant frames leave
    /// its stage 2 and are zeroed, its grant table is a fresh one. No vCPU of it runs.
    func restoreFreshMemory(_ vm: VirtualMachine) {
        releaseGrants(of: vm)
        var tlb = VMStage2TLB(vttbr: vm.vttbr)
        for i in 0..<vm.grants.frameCount {
            if let gfn = vm.grants.frameGFNs[i] { _ = try? vm.stage2.unmapPage(input: gfn.address.rawValue, tlb: &tlb) }
        }
        for gfn in vm.reservation.allHoles {
            // A grant frame put in the hole went just above; nothing else can be there.
            _ = try? vm.stage2.unmapPage(input: gfn.address.rawValue, tlb: &tlb)
            let host = vm.hostRAM.base + gfn.address.offset(from: vm.ram.base)
            try? vm.stage2.mapPage(input: gfn.address.rawValue, output: host, attributes: Stage2Attributes.guestRAM)
            vm.reservation.setHole(gfn, false)
        }
        vm.grants.reset()
        for page in vm.grants.frames { zero_memory(page.rawValue, PageSize.granule) }
        // Its orphaned mappings went with the rest: the scratch page is mapped nowhere now.
        if let page = vm.grantScratch { zero_memory(page.rawValue, PageSize.granule) }
    }
}

/// A translation fault on an IPA that is mapped now: the access met a break-before-make
/// window (a block being split, on another core) and is retried. (DFSC/IFSC 0b0001xx:
/// translation fault at level xx, Arm ARM D19.2.40.) A permission fault is the guest's own.
@inline(never)
func mappedSinceFault(_ vm: VirtualMachine, _ ipa: GuestPhysicalAddress, faultStatus: UInt8) -> Bool {
    faultStatus & 0b11_1100 == 0b00_0100 && vm.stage2.translate(ipa.rawValue) != nil
}
