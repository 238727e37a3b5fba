/// A watch (tools/xenstore/xenstored_watch.c): a path and the token the watcher chose. A watch
/// set with a relative path reports event paths relative to the domain's home too.
struct XenstoreWatch: Equatable {
    var path: [UInt8]
    var token: [UInt8]
    var relative: Bool
}

/// What a transaction knows of one node it touched (xenstored's `struct accessed_node`).
struct XenstoreAccessedNode {
    /// The node as the transaction sees it now; nil if absent (never existed, or removed).
    var node: XenstoreNode?
    /// The node's generation in the store when first read (noGeneration when absent then).
    var generation: UInt64
    /// First touched by a read: the commit checks the store still has that generation.
    var checkGeneration: Bool
    var modified = false
    /// The permissions it had when first touched: a watcher losing access still gets the event.
    var firstPermissions: [XenstorePermission]?
    var fireWatch = false
    var watchExact = false
}

/// An open transaction: a private view of the nodes it touched, applied at TRANSACTION_END
/// only if nothing it read changed meanwhile (else EAGAIN), xenstored's generation scheme.
struct XenstoreTransaction {
    static let noGeneration = UInt64.max

    var id: UInt32
    var accessed = XenstoreNodeTable<XenstoreAccessedNode>()
    /// Node count changes per owner, applied at commit (xenstored's changed_domains).
    var entryDeltas: [(domid: Int32, delta: Int)] = []
    var nodeCreated = false
    /// An operation inside failed half-way: the commit must fail (ENOMEM, as xenstored).
    var failed = false

    func delta(for domid: Int32) -> Int {
        for e in entryDeltas where e.domid == domid { return e.delta }
        return 0
    }

    mutating func addDelta(_ d: Int, for domid: Int32) {
        for i in entryDeltas.indices where entryDeltas[i].domid == domid {
            entryDeltas[i].delta += d
            return
        }
        entryDeltas.append((domid, d))
    }
}

/// One client of the server: a guest (over its ring page) or the hypervisor itself (domain 0,
/// privileged, through the API). Holds what xenstored keeps per connection.
struct XenstoreConnection {
    let domid: UInt32
    let privileged: Bool
    var watches: [XenstoreWatch] = []
    var transactions: [XenstoreTransaction] = []
    var nextTransactionID: UInt32 = 1
    /// The request being assembled from the ring: header bytes, then payload bytes.
    var input: [UInt8] = []
    /// Encoded messages waiting for room in the response ring; `outputSent` bytes of the
    /// first are already in the ring.
    var output: [[UInt8]] = []
    var outputIsEvent: [Bool] = []
    var outputSent = 0
    /// Set when the guest broke the protocol: nothing more is read or written
    /// (xenstored's ignore_connection), and the ring's `error` field says why.
    var ignored = false

    init(domid: UInt32, privileged: Bool) {
        self.domid = domid
        self.privileged = privileged
    }

    /// Replies queued and not yet fully in the ring (xenstored's outstanding requests).
    var outstandingReplies: Int {
        var n = 0
        for e in outputIsEvent where !e { n += 1 }
        return n
    }

    var queuedBytes: Int {
        var n = 0
        for m in output { n += m.count }
        return n
    }

    func transactionIndex(_ id: UInt32) -> Int? {
        for i in transactions.indices where transactions[i].id == id { return i }
        return nil
    }

    mutating func reset() {
        watches = []
        transactions = []
        input = []
        output = []
        outputIsEvent = []
        outputSent = 0
    }
}
