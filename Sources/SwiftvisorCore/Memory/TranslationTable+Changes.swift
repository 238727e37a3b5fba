/// What a running VM's stage 2 needs after an entry that was valid is removed or replaced:
/// invalidate the TLB entries for that IPA on every core, with the VM's VMID (Arm ARM D8.13).
/// The hypervisor broadcasts TLBI IPAS2E1IS and VMALLE1IS; host tests record the calls.
public protocol Stage2TLBMaintenance {
    mutating func invalidate(ipa: UInt64)
}

/// Changes to a table that is live: one 4 KiB page at a time, blocks split into pages first,
/// each change made with break-before-make (Arm ARM D8.14.1): the old valid entry is written
/// invalid and its TLB entries invalidated before a different valid entry takes its place.
extension TranslationTable {
    /// Maps one page at `input` (4 KiB aligned) over a hole; a page or block already there is
    /// `.alreadyMapped` (nothing changes).
    public mutating func mapPage<A: LeafAttributes>(input: UInt64, output: HostPhysicalAddress,
                                                    attributes: A) throws(MappingError) {
        try map(input: input, output: output, size: PageSize.granule, attributes: attributes)
    }

    /// Removes the page at `input`; a block covering it is split first (its other pages stay
    /// mapped). Returns what the page mapped to, or nil (nothing changes) if it was a hole.
    public mutating func unmapPage<TLB: Stage2TLBMaintenance>(input: UInt64, tlb: inout TLB) throws(MappingError)
        -> HostPhysicalAddress? {
        guard isAligned(input, PageSize.granule) else { throw .misaligned }
        guard let found = translate(input) else { return nil }
        if found.level < 3 {
            try splitBlock(containing: input, tlb: &tlb)
            return try unmapPage(input: input, tlb: &tlb)
        }
        let (table, index) = leafSlot(input, level: 3)
        memory.writeDescriptor(table: table, index: index, 0)
        tlb.invalidate(ipa: input)
        return found.output
    }

    /// Replaces the block containing `input` by a table of the next level's entries with the same
    /// output and attributes, so that one of its pages can change. Nothing happens if `input` is
    /// mapped by pages already or not mapped at all.
    public mutating func splitBlock<TLB: Stage2TLBMaintenance>(containing input: UInt64, tlb: inout TLB) throws(MappingError) {
        guard let found = translate(input), found.level < 3 else { return }
        let level = found.level
        let span = Self.entrySpan(level: level), childSpan = Self.entrySpan(level: level + 1)
        guard let child = memory.allocateTable() else { throw .outOfTableMemory }
        let attributes = found.descriptor & ~Self.addressMask & ~(Self.validBit | Self.tableOrPageBit)
        let base = found.output.rawValue & ~(span - 1)
        let typeBits = level + 1 == 3 ? Self.tableOrPageBit | Self.validBit : Self.validBit
        for i in 0..<512 {
            memory.writeDescriptor(table: child, index: i, (base + UInt64(i) * childSpan) | attributes | typeBits)
        }
        let (table, index) = leafSlot(input, level: level)
        // Break: no walker may see the block and the table at once (D8.14.1).
        memory.writeDescriptor(table: table, index: index, 0)
        tlb.invalidate(ipa: input & ~(span - 1))
        // Make.
        memory.writeDescriptor(table: table, index: index, child.rawValue | Self.tableOrPageBit | Self.validBit)
    }

    /// The table and index of the entry at `level` on the walk for `input` (which must exist).
    private func leafSlot(_ input: UInt64, level: Int) -> (HostPhysicalAddress, Int) {
        var table = root
        var current = startLevel
        while current < level {
            let descriptor = memory.readDescriptor(table: table, index: Self.index(of: input, level: current))
            table = HostPhysicalAddress(descriptor & Self.addressMask)
            current += 1
        }
        return (table, Self.index(of: input, level: level))
    }
}
