/// Addresses as the CPU sees them: `reg` values translated through every parent's `ranges`,
/// the /memreserve/ block of the header, and alias and path lookup by index.
extension DeviceTree {
    /// One `reg` entry or memory reservation: a start address and a length.
    public typealias Region = (address: UInt64, size: UInt64)

    /// The /memreserve/ entries of the header: pairs of 64-bit big-endian address and size,
    /// ended by a pair of zeros (Devicetree Specification v0.4, 5.3). QEMU's raspi4b puts its
    /// spin-table page (0..0x1000) here.
    public var memoryReservations: [Region] {
        var result: [Region] = []
        var offset = Int(u32(16))   // off_mem_rsvmap
        while offset + 16 <= bytes.count {
            let address = UInt64(u32(offset)) << 32 | UInt64(u32(offset + 4))
            let size = UInt64(u32(offset + 8)) << 32 | UInt64(u32(offset + 12))
            if address == 0 && size == 0 { break }
            result.append((address, size))
            offset += 16
        }
        return result
    }

    /// `reg` of `all[index]` in CPU physical addresses: each address is translated through the
    /// `ranges` of every ancestor below the root (Devicetree Specification v0.4, 2.3.8: a `ranges`
    /// entry is child-bus address, parent-bus address, length, in the child's #address-cells, the
    /// parent's #address-cells and the child's #size-cells; an empty `ranges` is the identity).
    /// nil when an ancestor has no `ranges` (its children are not memory mapped: /cpus, an I2C
    /// bus), an address lies in none of its windows, or a cell count is over 2.
    public func translatedReg(of index: Int, in all: [DeviceTreeNode]) -> [Region]? {
        var regions = all[index].reg.map { (address: $0.address, size: $0.size) }
        var child = all[index]
        while let busIndex = child.parent, all[busIndex].parent != nil {
            let bus = all[busIndex]
            guard let ranges = bus.property("ranges") else { return nil }
            if ranges.bytes.count > 0 {
                let childCells = child.addressCells, parentCells = bus.addressCells, sizeCells = child.sizeCells
                guard childCells <= 2, parentCells <= 2, sizeCells <= 2 else { return nil }
                let entryCells = childCells + parentCells + sizeCells
                var windows: [(child: UInt64, parent: UInt64, size: UInt64)] = []
                var cell = 0
                while (cell + entryCells) * 4 <= ranges.bytes.count {
                    windows.append((ranges.cells(at: cell, count: childCells),
                                    ranges.cells(at: cell + childCells, count: parentCells),
                                    ranges.cells(at: cell + childCells + parentCells, count: sizeCells)))
                    cell += entryCells
                }
                for i in regions.indices {
                    let a = regions[i].address
                    guard let w = windows.first(where: { a >= $0.child && a - $0.child < $0.size }) else { return nil }
                    regions[i].address = a - w.child + w.parent
                }
            }
            child = bus
        }
        return regions
    }

    /// `node`'s `reg` in CPU physical addresses (see `translatedReg(of:in:)`).
    public func translatedReg(_ node: DeviceTreeNode) -> [Region]? {
        let all = nodes()
        guard let index = all.firstIndex(where: { $0.nameOffset == node.nameOffset }) else { return nil }
        return translatedReg(of: index, in: all)
    }

    /// Index in `all` of the node at an absolute path ("/soc/serial@7e201000") or named by an
    /// alias ("serial0", a property of /aliases whose value is a path).
    public func nodeIndex(pathOrAlias: String, in all: [DeviceTreeNode]) -> Int? {
        var path = Array(pathOrAlias.utf8)
        if path.first != UInt8(ascii: "/") {
            guard let aliases = nodeIndex(path: Array("/aliases".utf8), in: all),
                  let target = all[aliases].property(pathOrAlias)?.bytes.split(separator: 0).first else { return nil }
            path = Array(target)
        }
        return nodeIndex(path: path, in: all)
    }

    func nodeIndex(path: [UInt8], in all: [DeviceTreeNode]) -> Int? {
        var current: Int? = all.isEmpty ? nil : 0
        for component in path.split(separator: UInt8(ascii: "/")) {
            guard let parent = current else { return nil }
            current = nil
            for i in all.indices where all[i].parent == parent {
                // A component without a unit address matches "name@unit" too.
                if all[i].nameEquals(component) || (!component.contains(UInt8(ascii: "@")) && all[i].baseNameEquals(component)) {
                    current = i; break
                }
            }
        }
        return current
    }
}

extension DeviceTreeNode {
    /// `status` absent, "okay" or "ok" (Devicetree Specification v0.4, 2.3.4).
    public var isEnabled: Bool {
        guard let status = property("status") else { return true }
        return status.containsString("okay") || status.containsString("ok")
    }
}
