/// TRANSACTION_START and TRANSACTION_END (tools/xenstore/xenstored_transaction.c): a
/// transaction works on its own view and is applied at the end only if every node it read
/// still has the generation it read (else EAGAIN, and the client retries).
extension XenstoreServer {
    /// TRANSACTION_START| -> <transid>|
    func transactionStart(_ payload: [UInt8]) throws(XenstoreError) {
        if transaction != nil { throw .ebusy }
        if unprivileged && caller.transactions.count > quota.transactionsPerDomain { throw .enospc }
        var id: UInt32
        repeat {
            id = connections[current].nextTransactionID
            connections[current].nextTransactionID &+= 1
        } while id == 0 || caller.transactionIndex(id) != nil
        generation += 1
        connections[current].transactions.append(XenstoreTransaction(id: id))
        sendReply(.transactionStart, XenstoreBytes.decimal(UInt64(id)) + [0])
    }

    /// TRANSACTION_END T| (commit) or F| (abort) -> OK|
    func transactionEnd(_ payload: [UInt8]) throws(XenstoreError) {
        guard let arg = XenstoreServer.oneArgument(payload), arg == [0x54] || arg == [0x46] else { throw .einval }
        guard let ended = transaction, let index = caller.transactionIndex(ended.id) else { throw .enoent }
        connections[current].transactions.remove(at: index)
        transaction = nil
        if arg == [0x54] { try commit(ended) }
        sendAck(.transactionEnd)
    }

    private func commit(_ t: XenstoreTransaction) throws(XenstoreError) {
        if t.failed { throw .enomem }
        if t.nodeCreated && unprivileged {
            for d in t.entryDeltas where entries(of: d.domid) + d.delta >= quota.nodesPerDomain { throw .enospc }
        }
        for i in 0..<t.accessed.count {
            let (path, seen) = t.accessed.entry(at: i)
            if seen.checkGeneration && (nodes[path]?.generation ?? XenstoreTransaction.noGeneration) != seen.generation {
                throw .eagain
            }
        }
        for i in 0..<t.accessed.count {
            let (path, seen) = t.accessed.entry(at: i)
            guard seen.modified else { continue }
            if var node = seen.node {
                generation += 1
                node.generation = generation
                nodes[path] = node
            } else {
                nodes[path] = nil
            }
        }
        for d in t.entryDeltas { applyEntries(of: d.domid, d.delta) }
        for i in 0..<t.accessed.count {
            let (path, seen) = t.accessed.entry(at: i)
            if seen.fireWatch { fireWatches(path, node: nil, exact: seen.watchExact, oldPermissions: seen.firstPermissions) }
        }
    }
}
