/// One node of the store: its permissions, value and children's names (in creation order, as
/// xenstored's child list), and the generation count of its last change (transaction conflicts
/// compare these, tools/xenstore/xenstored_transaction.c).
struct XenstoreNode: Equatable {
    var permissions: [XenstorePermission]
    var value: [UInt8] = []
    var children: [[UInt8]] = []
    var generation: UInt64 = 0

    /// The owner, who is charged for the node in the per-domain node quota.
    var owner: Int32 { permissions.first?.domid ?? 0 }

    /// The size xenstored stores for the node (`struct xs_tdb_record_hdr`, 24 bytes with padding,
    /// 8 bytes per permission, the value, the NUL-terminated children): quota_max_entry_size
    /// applies to this.
    var recordSize: Int {
        var size = 24 + 8 * permissions.count + value.count
        for c in children { size += c.count + 1 }
        return size
    }

    /// The DIRECTORY payload: each child's name and a NUL.
    var childrenBytes: [UInt8] {
        var out: [UInt8] = []
        for c in children { out += c; out.append(0) }
        return out
    }
}

/// Nodes by path, kept sorted by path bytes (binary search; no hashing, which bare metal lacks).
struct XenstoreNodeTable<Value> {
    private(set) var paths: [[UInt8]] = []
    private(set) var values: [Value] = []

    var count: Int { paths.count }

    /// The index of `path`, or where it would be inserted.
    private func position(_ path: [UInt8]) -> (index: Int, found: Bool) {
        var low = 0, high = paths.count
        while low < high {
            let mid = (low + high) / 2
            if XenstoreBytes.less(paths[mid], path) { low = mid + 1 } else { high = mid }
        }
        return (low, low < paths.count && paths[low] == path)
    }

    subscript(path: [UInt8]) -> Value? {
        get {
            let p = position(path)
            return p.found ? values[p.index] : nil
        }
        set {
            let p = position(path)
            switch (p.found, newValue) {
            case (true, let v?): values[p.index] = v
            case (true, nil): paths.remove(at: p.index); values.remove(at: p.index)
            case (false, let v?): paths.insert(path, at: p.index); values.insert(v, at: p.index)
            case (false, nil): break
            }
        }
    }

    /// The entry at `index` in path order.
    func entry(at index: Int) -> (path: [UInt8], value: Value) { (paths[index], values[index]) }

    mutating func removeAll() {
        paths = []
        values = []
    }
}
