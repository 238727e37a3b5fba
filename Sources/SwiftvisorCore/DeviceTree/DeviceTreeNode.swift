/// One node of a `DeviceTree`.
public struct DeviceTreeNode {
    let tree: DeviceTree
    let nameOffset: Int
    let nameLength: Int
    public let depth: Int
    /// Index of the parent in `DeviceTree.nodes()`.
    public let parent: Int?
    /// #address-cells and #size-cells of the parent: how this node's `reg` is encoded.
    public let addressCells: Int
    public let sizeCells: Int
    var propertiesOffset = 0

    init(tree: DeviceTree, nameOffset: Int, nameLength: Int, depth: Int, parent: Int?, addressCells: Int, sizeCells: Int) {
        self.tree = tree; self.nameOffset = nameOffset; self.nameLength = nameLength
        self.depth = depth; self.parent = parent; self.addressCells = addressCells; self.sizeCells = sizeCells
    }

    public var name: String {
        String(decoding: UnsafeRawBufferPointer(rebasing: tree.bytes[nameOffset..<nameOffset + nameLength]), as: UTF8.self)
    }

    func nameEquals<C: Collection>(_ other: C) -> Bool where C.Element == UInt8 {
        guard other.count == nameLength else { return false }
        var i = nameOffset
        for c in other { if tree.bytes[i] != c { return false }; i += 1 }
        return true
    }

    /// Compares the part before '@'.
    func baseNameEquals<C: Collection>(_ other: C) -> Bool where C.Element == UInt8 {
        var i = nameOffset
        for c in other {
            guard i < nameOffset + nameLength, tree.bytes[i] == c else { return false }
            i += 1
        }
        return i == nameOffset + nameLength || tree.bytes[i] == UInt8(ascii: "@")
    }

    public func property(_ name: String) -> DeviceTreeProperty? {
        var offset = propertiesOffset
        while true {
            let token = tree.u32(offset)
            if token == DeviceTree.Token.nop.rawValue { offset += 4; continue }
            guard token == DeviceTree.Token.property.rawValue else { return nil }
            let length = Int(tree.u32(offset + 4))
            let nameOff = tree.stringsOffset + Int(tree.u32(offset + 8))
            let valueOffset = offset + 12
            if stringEquals(at: nameOff, name) {
                return DeviceTreeProperty(bytes: UnsafeRawBufferPointer(rebasing: tree.bytes[valueOffset..<valueOffset + length]))
            }
            offset = valueOffset + alignUp4(length)
        }
    }

    private func stringEquals(at offset: Int, _ s: String) -> Bool {
        var i = offset
        for c in s.utf8 {
            guard i < tree.bytes.count, tree.bytes[i] == c else { return false }
            i += 1
        }
        return i < tree.bytes.count && tree.bytes[i] == 0
    }

    /// The `reg` property decoded as (address, size) pairs with the parent's cell counts.
    public var reg: [(address: UInt64, size: UInt64)] {
        guard let p = property("reg"), addressCells <= 2, sizeCells <= 2 else { return [] }
        let entryCells = addressCells + sizeCells
        guard entryCells > 0 else { return [] }
        var result: [(address: UInt64, size: UInt64)] = []
        var cell = 0
        while (cell + entryCells) * 4 <= p.bytes.count {
            result.append((p.cells(at: cell, count: addressCells), p.cells(at: cell + addressCells, count: sizeCells)))
            cell += entryCells
        }
        return result
    }
}

/// A property value: big-endian cells or NUL-terminated strings.
public struct DeviceTreeProperty {
    public let bytes: UnsafeRawBufferPointer

    public func u32(_ index: Int) -> UInt32? {
        guard (index + 1) * 4 <= bytes.count else { return nil }
        return readBigEndian32(bytes, index * 4)
    }

    /// `count` cells starting at cell `index`, as one number (1 or 2 cells).
    public func cells(at index: Int, count: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<count { v = v << 32 | UInt64(u32(index + i) ?? 0) }
        return v
    }

    /// The strings of a string-list property.
    public var strings: [String] {
        bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    public var string: String? { strings.first }

    public func containsString(_ s: String) -> Bool {
        for part in bytes.split(separator: 0) where part.elementsEqual(s.utf8) { return true }
        return false
    }
}
