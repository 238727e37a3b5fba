/// The node operations of docs/misc/xenstore.txt, as Xen 4.17's xenstored_core.c answers them.
extension XenstoreServer {
    /// DIRECTORY <path>| -> <child>|*
    func directory(_ payload: [UInt8]) throws(XenstoreError) {
        let node = try node(XenstoreServer.oneArgument(payload).map(canonical), .read)
        sendReply(.directory, node.childrenBytes)
    }

    /// DIRECTORY_PART <path>|<offset>| -> <gencnt>|<child>|*  (the list continued from a byte
    /// offset, ending with an empty string once complete).
    func directoryPart(_ payload: [UInt8]) throws(XenstoreError) {
        let strings = XenstoreBytes.strings(payload)
        guard strings.count == 2 else { throw .einval }
        let node = try node(canonical(Array(payload[strings[0]])), .read)
        let offset = Int(XenstoreBytes.atoi(payload[strings[1]]))
        let children = node.childrenBytes
        var generation = XenstoreBytes.decimal(node.generation) + [0]
        if offset < 0 || offset >= children.count { return sendReply(.directoryPart, generation + [0]) }
        let maxLength = XenstoreWire.payloadMax - generation.count - 1
        var end = offset
        while end < children.count {
            var next = end
            while children[next] != 0 { next += 1 }
            if next - offset >= maxLength { break }
            end = next + 1
        }
        generation += children[offset..<end]
        if end == children.count { generation.append(0) }
        sendReply(.directoryPart, generation)
    }

    /// READ <path>| -> <value>
    func read(_ payload: [UInt8]) throws(XenstoreError) {
        let node = try node(XenstoreServer.oneArgument(payload).map(canonical), .read)
        sendReply(.read, node.value)
    }

    /// GET_PERMS <path>| -> <perm-as-string>|+
    func getPermissions(_ payload: [UInt8]) throws(XenstoreError) {
        let node = try node(XenstoreServer.oneArgument(payload).map(canonical), .read)
        sendReply(.getPerms, node.permissions.wireBytes)
    }

    /// WRITE <path>|<value> -> OK|  (creating the node and its ancestors if need be).
    func write(_ payload: [UInt8]) throws(XenstoreError) {
        guard let end = payload.firstIndex(of: 0) else { throw .einval }
        let path = canonical(Array(payload[0..<end]))
        let value = Array(payload[(end + 1)...])
        var written: XenstoreNode
        do {
            var node = try node(path, .write)
            node.value = value
            try writeNode(path, node)
            written = node
        } catch .enoent {
            written = try createNode(path, value: value)
        }
        fireWatches(path, node: written, exact: false)
        sendAck(.write)
    }

    /// MKDIR <path>| -> OK|  (an existing node is left alone).
    func mkdir(_ payload: [UInt8]) throws(XenstoreError) {
        let path = XenstoreServer.oneArgument(payload).map(canonical)
        do {
            _ = try node(path, .write)
        } catch .enoent {
            let node = try createNode(path!, value: [])
            fireWatches(path!, node: node, exact: false)
        }
        sendAck(.mkdir)
    }

    /// RM <path>| -> OK|  (removing an absent node whose parent exists is fine).
    func remove(_ payload: [UInt8]) throws(XenstoreError) {
        let path = XenstoreServer.oneArgument(payload).map(canonical)
        do {
            _ = try node(path, .write)
        } catch .enoent {
            guard try readNode(XenstorePath.parent(path!)) != nil else { throw .enoent }
            return sendAck(.rm)
        }
        if path! == XenstorePath.root { throw .einval }
        try removeNode(path!)
        sendAck(.rm)
    }

    /// SET_PERMS <path>|<perm-as-string>|+? -> OK|
    func setPermissions(_ payload: [UInt8]) throws(XenstoreError) {
        let strings = XenstoreBytes.strings(payload)
        guard strings.count >= 2 else { throw .einval }
        if unprivileged && strings.count - 1 > quota.permissionsPerNode { throw .enospc }
        var permissions: [XenstorePermission] = []
        for range in strings.dropFirst() {
            guard var p = XenstorePermission(parsing: payload[range]) else { throw .einval }
            // domain_alloc_permrefs: an entry for a domain that does not exist is inert.
            if !domainExists(p.domid) { p.access = p.access.union(.ignore) }
            permissions.append(p)
        }
        if permissions[0].access.contains(.ignore) { throw .enoent }
        let name = Array(payload[strings[0]])
        if name.first == XenstorePath.at { return try setSpecialPermissions(name, permissions) }

        let path = canonical(name)
        var node = try node(path, Access.write.union(.owner))
        if unprivileged && permissions[0].domid != node.permissions[0].domid { throw .eperm }
        let old = node.permissions
        node.permissions = permissions
        try writeNode(path, node)
        changeEntries(of: old[0].domid, by: -1)
        changeEntries(of: permissions[0].domid, by: 1)
        fireWatches(path, node: node, exact: false, oldPermissions: old)
        sendAck(.setPerms)
    }

    /// SET_PERMS on @releaseDomain or @introduceDomain: who may watch them (domain 0 only).
    private func setSpecialPermissions(_ name: [UInt8], _ permissions: [XenstorePermission]) throws(XenstoreError) {
        guard let old = specialPermissions(name) else { throw .einval }
        guard old.access(for: callerDomid, privileged: !unprivileged).contains(Access.write.union(.owner)) else { throw .eacces }
        if name == XenstoreServer.releaseDomain { releaseDomainPermissions = permissions } else { introduceDomainPermissions = permissions }
        sendAck(.setPerms)
    }

    /// GET_DOMAIN_PATH <domid>| -> <path>|  (atoi of the argument, any number).
    func getDomainPath(_ payload: [UInt8]) throws(XenstoreError) {
        guard let arg = XenstoreServer.oneArgument(payload) else { throw .einval }
        let domid = UInt32(bitPattern: XenstoreBytes.atoi(arg[...]))
        sendReply(.getDomainPath, XenstorePath.domainPath(domid) + [0])
    }

    /// IS_DOMAIN_INTRODUCED <domid>| -> T| or F|  (privileged callers only; DOMID_SELF is T, and so
    /// is domain 0, the hypervisor here).
    func isDomainIntroduced(_ payload: [UInt8]) throws(XenstoreError) {
        guard let arg = XenstoreServer.oneArgument(payload) else { throw .einval }
        let domid = UInt32(bitPattern: XenstoreBytes.atoi(arg[...]))
        let introduced = domid == UInt32(XenDomainID.selfID) || connectionIndex(domid) != nil
        sendReply(.isDomainIntroduced, [introduced ? 0x54 : 0x46, 0])
    }

    func domainExists(_ domid: Int32) -> Bool {
        domid == 0 || (domid > 0 && connectionIndex(UInt32(domid)) != nil)
    }
}
