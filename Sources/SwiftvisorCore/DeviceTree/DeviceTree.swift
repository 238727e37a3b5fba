/// A read-only view of a flattened device tree blob (Devicetree Specification v0.4, chapter 5).
/// Reads byte by byte, so it is safe with the MMU off (no unaligned accesses).
public struct DeviceTree {
    public let bytes: UnsafeRawBufferPointer
    let structOffset: Int
    let structSize: Int
    let stringsOffset: Int
    let stringsSize: Int

    static let magic: UInt32 = 0xD00D_FEED
    enum Token: UInt32 { case beginNode = 1, endNode = 2, property = 3, nop = 4, end = 9 }

    public enum ParseError: Error, Equatable { case badMagic, truncated, unsupportedVersion, malformed }

    /// The blob's total size as its header states it, for a header read from raw memory.
    public static func totalSize(header: UnsafeRawBufferPointer) -> Int? {
        guard header.count >= 8, readBigEndian32(header, 0) == magic else { return nil }
        return Int(readBigEndian32(header, 4))
    }

    public init(bytes: UnsafeRawBufferPointer) throws(ParseError) {
        guard bytes.count >= 40 else { throw .truncated }
        guard readBigEndian32(bytes, 0) == Self.magic else { throw .badMagic }
        let total = Int(readBigEndian32(bytes, 4))
        guard total <= bytes.count else { throw .truncated }
        guard readBigEndian32(bytes, 24) <= 17 else { throw .unsupportedVersion }  // last_comp_version
        self.bytes = UnsafeRawBufferPointer(rebasing: bytes[0..<total])
        structOffset = Int(readBigEndian32(bytes, 8))
        stringsOffset = Int(readBigEndian32(bytes, 12))
        stringsSize = Int(readBigEndian32(bytes, 32))
        structSize = Int(readBigEndian32(bytes, 36))
        guard structOffset + structSize <= total, stringsOffset + stringsSize <= total else { throw .malformed }
    }

    @inline(__always) func u32(_ offset: Int) -> UInt32 { readBigEndian32(bytes, offset) }

    /// Length of the NUL-terminated string at `offset` (bounded by the blob).
    func stringLength(_ offset: Int) -> Int {
        var n = 0
        while offset + n < bytes.count && bytes[offset + n] != 0 { n += 1 }
        return n
    }

    /// Every node in document order, with what is needed to decode its properties.
    public func nodes() -> [DeviceTreeNode] {
        var result: [DeviceTreeNode] = []
        // #address-cells/#size-cells in force for the children of each open node (defaults 2/1).
        var cellsStack: [(address: Int, size: Int)] = []
        var parents: [Int] = []
        var offset = structOffset
        let end = structOffset + structSize
        while offset + 4 <= end {
            guard let token = Token(rawValue: u32(offset)) else { return result }
            offset += 4
            switch token {
            case .beginNode:
                let nameLength = stringLength(offset)
                let parentCells = cellsStack.last ?? (2, 1)
                var node = DeviceTreeNode(tree: self, nameOffset: offset, nameLength: nameLength,
                                          depth: parents.count, parent: parents.last,
                                          addressCells: parentCells.address, sizeCells: parentCells.size)
                offset += alignUp4(nameLength + 1)
                node.propertiesOffset = offset
                // This node's own cells apply to its children.
                let own = (address: node.property("#address-cells")?.u32(0).map(Int.init) ?? 2,
                           size: node.property("#size-cells")?.u32(0).map(Int.init) ?? 1)
                cellsStack.append(own)
                parents.append(result.count)
                result.append(node)
            case .endNode:
                if !cellsStack.isEmpty { cellsStack.removeLast(); parents.removeLast() }
            case .property:
                let length = Int(u32(offset))
                offset += 8 + alignUp4(length)
            case .nop:
                continue
            case .end:
                return result
            }
        }
        return result
    }

    /// The node at an absolute path such as "/chosen" or "/pl011@9000000".
    public func node(path: String) -> DeviceTreeNode? {
        let all = nodes()
        var current: Int? = all.isEmpty ? nil : 0
        for component in path.utf8.split(separator: UInt8(ascii: "/")) {
            guard let parent = current else { return nil }
            current = nil
            for (i, n) in all.enumerated() where n.parent == parent {
                // A component without a unit address matches "name@unit" too.
                if n.nameEquals(component) || (!component.contains(UInt8(ascii: "@")) && n.baseNameEquals(component)) {
                    current = i; break
                }
            }
        }
        return current.map { all[$0] }
    }

    /// Nodes whose `compatible` list contains `compatible`.
    public func nodes(compatibleWith compatible: String) -> [DeviceTreeNode] {
        nodes().filter { $0.property("compatible")?.containsString(compatible) ?? false }
    }
}

@inline(__always) func alignUp4(_ n: Int) -> Int { (n + 3) & ~3 }

@inline(__always) func readBigEndian32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
    UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
}
