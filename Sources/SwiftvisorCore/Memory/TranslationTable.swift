/// Where translation tables live. The hypervisor writes real memory; host tests use a fake.
public protocol TranslationTableMemory {
    /// A zeroed, 4 KiB-aligned 4 KiB table, or nil when memory is exhausted.
    mutating func allocateTable() -> HostPhysicalAddress?
    func readDescriptor(table: HostPhysicalAddress, index: Int) -> UInt64
    mutating func writeDescriptor(table: HostPhysicalAddress, index: Int, _ descriptor: UInt64)
}

/// The attribute bits of a block or page descriptor for one translation regime.
public protocol LeafAttributes {
    var descriptorBits: UInt64 { get }
}

public enum MappingError: Error, Equatable {
    case misaligned
    case outOfRange
    case alreadyMapped(input: UInt64)
    case outOfTableMemory
}

/// A 4 KiB-granule VMSAv8-64 translation table (Arm ARM D8.2), used for both the EL2 stage-1
/// identity map and each VM's stage-2 tables. Maps with the largest block the alignment allows.
public struct TranslationTable<Memory: TranslationTableMemory> {
    public internal(set) var memory: Memory
    public let root: HostPhysicalAddress
    /// Level of the root table: 0 covers 48 bits of input, 1 covers 39 bits.
    public let startLevel: Int

    static var validBit: UInt64 { 1 }
    static var tableOrPageBit: UInt64 { 2 }
    /// Output address, bits 47:12 of a descriptor.
    static var addressMask: UInt64 { 0x0000_FFFF_FFFF_F000 }

    public init?(memory: Memory, startLevel: Int) {
        var memory = memory
        guard startLevel == 0 || startLevel == 1, let root = memory.allocateTable() else { return nil }
        self.memory = memory
        self.root = root
        self.startLevel = startLevel
    }

    /// Bytes covered by one entry at `level`: 512 GiB, 1 GiB, 2 MiB, 4 KiB.
    @inline(__always) static func entrySpan(level: Int) -> UInt64 { 1 << UInt64(39 - 9 * level) }
    @inline(__always) static func index(of input: UInt64, level: Int) -> Int {
        Int((input >> UInt64(39 - 9 * level)) & 511)
    }

    /// Highest input address + 1 the root covers.
    public var inputLimit: UInt64 { Self.entrySpan(level: startLevel) * 512 }

    /// Maps [input, input + size) to [output, output + size).
    public mutating func map<A: LeafAttributes>(input: UInt64, output: HostPhysicalAddress, size: UInt64,
                                                attributes: A) throws(MappingError) {
        guard isAligned(input, PageSize.granule), isAligned(output.rawValue, PageSize.granule),
              isAligned(size, PageSize.granule) else { throw .misaligned }
        guard size <= inputLimit, input <= inputLimit - size else { throw .outOfRange }
        var offset: UInt64 = 0
        while offset < size {
            let i = input + offset, o = output.rawValue + offset, remaining = size - offset
            // Level 1 and 2 may hold blocks (4 KiB granule, Arm ARM D8.2.6); level 3 holds pages.
            var level = 3
            for candidate in max(1, startLevel)...2 {
                let span = Self.entrySpan(level: candidate)
                if isAligned(i, span) && isAligned(o, span) && remaining >= span { level = candidate; break }
            }
            try mapOne(input: i, output: o, level: level, attributes: attributes.descriptorBits)
            offset += Self.entrySpan(level: level)
        }
    }

    private mutating func mapOne(input: UInt64, output: UInt64, level: Int, attributes: UInt64) throws(MappingError) {
        var table = root
        var current = startLevel
        while current < level {
            let index = Self.index(of: input, level: current)
            let descriptor = memory.readDescriptor(table: table, index: index)
            if descriptor & Self.validBit == 0 {
                guard let next = memory.allocateTable() else { throw .outOfTableMemory }
                memory.writeDescriptor(table: table, index: index, next.rawValue | Self.tableOrPageBit | Self.validBit)
                table = next
            } else if descriptor & Self.tableOrPageBit != 0 {
                table = HostPhysicalAddress(descriptor & Self.addressMask)
            } else {
                throw .alreadyMapped(input: input)  // a block covers this range already
            }
            current += 1
        }
        let index = Self.index(of: input, level: level)
        guard memory.readDescriptor(table: table, index: index) & Self.validBit == 0 else {
            throw .alreadyMapped(input: input)
        }
        let typeBits = level == 3 ? Self.tableOrPageBit | Self.validBit : Self.validBit
        memory.writeDescriptor(table: table, index: index, (output & Self.addressMask) | attributes | typeBits)
    }

    /// Walks the tables: the output address and the leaf's attribute bits, or nil if unmapped.
    public func translate(_ input: UInt64) -> (output: HostPhysicalAddress, descriptor: UInt64, level: Int)? {
        guard input < inputLimit else { return nil }
        var table = root
        var level = startLevel
        while true {
            let descriptor = memory.readDescriptor(table: table, index: Self.index(of: input, level: level))
            guard descriptor & Self.validBit != 0 else { return nil }
            let isTable = level < 3 && descriptor & Self.tableOrPageBit != 0
            if !isTable {
                let span = Self.entrySpan(level: level)
                let base = descriptor & Self.addressMask & ~(span - 1)
                return (HostPhysicalAddress(base | (input & (span - 1))), descriptor, level)
            }
            table = HostPhysicalAddress(descriptor & Self.addressMask)
            level += 1
        }
    }
}
