/// Reading and changing nodes as the current request's caller, inside its transaction if it
/// has one (xenstored_core.c read_node/write_node/get_node/create_node/rm_node and
/// xenstored_transaction.c access_node).
extension XenstoreServer {
    typealias Access = XenstorePermission.Access

    /// The node at `path` as the caller's transaction sees it (nil: absent). A transaction
    /// remembers the generation of what it read, for the conflict check at its end.
    func readNode(_ path: [UInt8]) throws(XenstoreError) -> XenstoreNode? {
        guard transaction != nil else { return nodes[path] }
        if let seen = transaction!.accessed[path] { return seen.node }
        let node = nodes[path]
        try noteAccess(path, XenstoreAccessedNode(node: node, generation: node?.generation ?? XenstoreTransaction.noGeneration,
                                                  checkGeneration: true, firstPermissions: node?.permissions))
        return node
    }

    /// A transaction's first touch of a node, within the per-transaction node quota.
    private func noteAccess(_ path: [UInt8], _ entry: XenstoreAccessedNode) throws(XenstoreError) {
        if unprivileged && transaction!.accessed.count >= quota.nodesPerTransaction {
            transaction!.failed = true
            throw .enospc
        }
        transaction!.accessed[path] = entry
    }

    /// Stores `node` at `path` with the next generation. A guest's node must stay below the
    /// entry size quota unless the change only shrinks it (`checkQuota` false, as xenstored
    /// removing a child entry).
    func writeNode(_ path: [UInt8], _ node: XenstoreNode, checkQuota: Bool = true) throws(XenstoreError) {
        if checkQuota && unprivileged && node.recordSize >= quota.maxEntrySize {
            transaction?.failed = true
            throw .enospc
        }
        var node = node
        generation += 1
        node.generation = generation
        guard transaction != nil else {
            nodes[path] = node
            return
        }
        if transaction!.accessed[path] == nil {
            let old = nodes[path]
            try noteAccess(path, XenstoreAccessedNode(node: nil, generation: 0, checkGeneration: false,
                                                      firstPermissions: old?.permissions))
        }
        transaction!.accessed[path]!.node = node
        transaction!.accessed[path]!.modified = true
    }

    func deleteNode(_ path: [UInt8]) throws(XenstoreError) {
        generation += 1
        guard transaction != nil else {
            nodes[path] = nil
            return
        }
        if transaction!.accessed[path] == nil {
            try noteAccess(path, XenstoreAccessedNode(node: nil, generation: 0, checkGeneration: false,
                                                      firstPermissions: nodes[path]?.permissions))
        }
        transaction!.accessed[path]!.node = nil
        transaction!.accessed[path]!.modified = true
    }

    // MARK: Node counts per owner

    func entries(of domid: Int32) -> Int {
        for e in entryCounts where e.domid == domid { return e.count }
        return 0
    }

    func changeEntries(of domid: Int32, by delta: Int) {
        if transaction != nil { return transaction!.addDelta(delta, for: domid) }
        applyEntries(of: domid, delta)
    }

    func applyEntries(of domid: Int32, _ delta: Int) {
        for i in entryCounts.indices where entryCounts[i].domid == domid {
            entryCounts[i].count += delta
            return
        }
        entryCounts.append((domid, delta))
    }

    // MARK: Lookups with permission checks

    /// get_node: the node at a valid `path` if the caller has all of `access` to it. A refusal
    /// or absence is reported as xenstored does: EACCES unless the nearest existing ancestor
    /// would grant some of `access`, so that errors do not reveal hidden nodes.
    func node(_ path: [UInt8]?, _ access: Access) throws(XenstoreError) -> XenstoreNode {
        guard let path, XenstorePath.isValidNodeName(path, maxRelativeLength: quota.maxPathLength) else { throw .einval }
        let error: XenstoreError
        if let node = try readNode(path) {
            if node.permissions.access(for: callerDomid, privileged: !unprivileged).contains(access) { return node }
            error = .eacces
        } else {
            error = .enoent
        }
        throw try errorFromParents(path, error, access)
    }

    private func errorFromParents(_ path: [UInt8], _ error: XenstoreError, _ access: Access) throws(XenstoreError) -> XenstoreError {
        var name = path
        repeat {
            name = XenstorePath.parent(name)
            if let parent = try readNode(name) {
                let granted = parent.permissions.access(for: callerDomid, privileged: !unprivileged)
                return granted.intersects(access) ? error : .eacces
            }
        } while name != XenstorePath.root
        return .eacces
    }

    /// The caller's path made absolute.
    func canonical(_ path: [UInt8]) -> [UInt8] { XenstorePath.canonical(path, domid: callerDomid) }

    // MARK: Creating and removing

    /// create_node: `path` and any missing ancestors, each inheriting its parent's permissions
    /// (a guest owns what it creates), within the node count and entry size quotas.
    @discardableResult
    func createNode(_ path: [UInt8], value: [UInt8]) throws(XenstoreError) -> XenstoreNode {
        var missing: [[UInt8]] = [path]
        var parentPath = XenstorePath.parent(path)
        var parent: XenstoreNode
        while true {
            if let found = try readNode(parentPath) { parent = found; break }
            if parentPath == XenstorePath.root { throw .enoent }
            missing.append(parentPath)
            parentPath = XenstorePath.parent(parentPath)
        }
        // Build top-down, then check and write bottom-up as xenstored does.
        var writes: [(path: [UInt8], node: XenstoreNode)] = []
        var above = parent
        var abovePath = parentPath
        for name in missing.reversed() {
            above.children.append(XenstorePath.basename(name))
            writes.append((abovePath, above))
            var new = XenstoreNode(permissions: above.permissions)
            if unprivileged { new.permissions[0].domid = Int32(bitPattern: callerDomid) }
            above = new
            abovePath = name
        }
        above.value = value
        writes.append((abovePath, above))
        writes.reverse()
        let newCount = missing.count
        if unprivileged {
            let owned = entries(of: Int32(bitPattern: callerDomid))
            if owned + newCount - 1 >= quota.nodesPerDomain { throw .enospc }
            for w in writes where w.node.recordSize >= quota.maxEntrySize {
                transaction?.failed = true
                throw .enospc
            }
        }
        if transaction != nil { transaction!.nodeCreated = true }
        for (i, w) in writes.enumerated() {
            try writeNode(w.path, w.node)
            if i < newCount { changeEntries(of: w.node.owner, by: 1) }
        }
        return writes[0].node
    }

    /// rm_node: `path` and everything below it, children first; each removal fires the watches
    /// on that node, and the top one also its ancestors' watches.
    func removeNode(_ path: [UInt8]) throws(XenstoreError) {
        let parentPath = XenstorePath.parent(path)
        guard var parent = try readNode(parentPath) else { throw .einval }
        // Post-order walk with an explicit stack: a path of 1500 levels must not exhaust ours.
        var stack: [(path: [UInt8], next: Int)] = [(path, 0)]
        while let top = stack.last {
            let node = try readNode(top.path)
            if let node, top.next < node.children.count {
                stack[stack.count - 1].next += 1
                stack.append((XenstorePath.child(top.path, node.children[top.next]), 0))
                continue
            }
            stack.removeLast()
            guard let node else { continue }
            try deleteNode(top.path)
            fireWatches(top.path, node: node, exact: top.path != path)
            changeEntries(of: node.owner, by: -1)
        }
        let name = XenstorePath.basename(path)
        if let i = parent.children.firstIndex(of: name) { parent.children.remove(at: i) }
        try writeNode(parentPath, parent, checkQuota: false)
    }
}
