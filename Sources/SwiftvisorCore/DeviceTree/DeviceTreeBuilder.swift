/// Writes a flattened device tree blob (Devicetree Specification v0.4, chapter 5), version 17.
public struct DeviceTreeBuilder {
    private var structure: [UInt8] = []
    private var strings: [UInt8] = []
    private var openNodes = 0

    public init() {}

    public mutating func beginNode(_ name: String) {
        append32(&structure, DeviceTree.Token.beginNode.rawValue)
        structure.append(contentsOf: name.utf8)
        structure.append(0)
        pad(&structure)
        openNodes += 1
    }

    public mutating func endNode() {
        precondition(openNodes > 0, "endNode without beginNode")
        append32(&structure, DeviceTree.Token.endNode.rawValue)
        openNodes -= 1
    }

    public mutating func property(_ name: String, bytes value: [UInt8]) {
        append32(&structure, DeviceTree.Token.property.rawValue)
        append32(&structure, UInt32(value.count))
        append32(&structure, stringOffset(name))
        structure.append(contentsOf: value)
        pad(&structure)
    }

    public mutating func property(_ name: String, string value: String) {
        property(name, bytes: Array(value.utf8) + [0])
    }

    public mutating func property(_ name: String, strings values: [String]) {
        var b: [UInt8] = []
        for v in values { b.append(contentsOf: v.utf8); b.append(0) }
        property(name, bytes: b)
    }

    public mutating func property(_ name: String, cells values: [UInt32]) {
        var b: [UInt8] = []
        for v in values { append32(&b, v) }
        property(name, bytes: b)
    }

    /// A value spread over two cells, as #address-cells = 2 wants.
    public mutating func property(_ name: String, u64Pairs values: [UInt64]) {
        var cells: [UInt32] = []
        for v in values { cells.append(UInt32(truncatingIfNeeded: v >> 32)); cells.append(UInt32(truncatingIfNeeded: v)) }
        property(name, cells: cells)
    }

    public mutating func emptyProperty(_ name: String) { property(name, bytes: []) }

    /// The finished blob.
    public func finish() -> [UInt8] {
        precondition(openNodes == 0, "unbalanced device tree nodes")
        var s = structure
        append32(&s, DeviceTree.Token.end.rawValue)
        let headerSize = 40
        let reserveMapOffset = headerSize           // already 8-byte aligned
        let reserveMapSize = 16                     // one terminating empty entry
        let structOffset = reserveMapOffset + reserveMapSize
        let stringsOffset = structOffset + s.count
        let total = stringsOffset + strings.count
        var blob: [UInt8] = []
        blob.reserveCapacity(alignUp4(total))
        for v in [DeviceTree.magic, UInt32(alignUp4(total)), UInt32(structOffset), UInt32(stringsOffset),
                  UInt32(reserveMapOffset), 17, 16, 0, UInt32(strings.count), UInt32(s.count)] {
            append32(&blob, v)
        }
        blob.append(contentsOf: [UInt8](repeating: 0, count: reserveMapSize))
        blob.append(contentsOf: s)
        blob.append(contentsOf: strings)
        pad(&blob)
        return blob
    }

    private mutating func stringOffset(_ name: String) -> UInt32 {
        // Reuse an existing entry so repeated names ("reg", "compatible") are stored once.
        let n = Array(name.utf8)
        var start = 0
        while start < strings.count {
            var end = start
            while strings[end] != 0 { end += 1 }
            if strings[start..<end].elementsEqual(n) { return UInt32(start) }
            start = end + 1
        }
        let offset = strings.count
        strings.append(contentsOf: n)
        strings.append(0)
        return UInt32(offset)
    }
}

@inline(__always) func append32(_ b: inout [UInt8], _ v: UInt32) {
    b.append(UInt8(truncatingIfNeeded: v >> 24)); b.append(UInt8(truncatingIfNeeded: v >> 16))
    b.append(UInt8(truncatingIfNeeded: v >> 8)); b.append(UInt8(truncatingIfNeeded: v))
}

@inline(__always) func pad(_ b: inout [UInt8]) { while b.count % 4 != 0 { b.append(0) } }
