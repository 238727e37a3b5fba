/// A xenstore server (the protocol of Xen's docs/misc/xenstore.txt, the behaviour of Xen 4.17's
/// C xenstored toward a domU) for the guests of one system: a tree of nodes with permissions,
/// watches, transactions and per-domain quotas, spoken to over each guest's ring page
/// (`service(domid:page:)`) and by the hypervisor itself as the privileged domain 0 (the API in
/// XenstoreServer+Domains.swift). Not thread-safe: the caller serialises calls.
public final class XenstoreServer {
    public var quota: XenstoreQuota
    var nodes = XenstoreNodeTable<XenstoreNode>()
    /// The global generation count: every change takes the next one.
    var generation: UInt64 = 0
    /// connections[0] is the hypervisor (domain 0); then one per introduced guest.
    var connections: [XenstoreConnection] = [XenstoreConnection(domid: 0, privileged: true)]
    /// Nodes owned per domain (xenstored's nbentry).
    var entryCounts: [(domid: Int32, count: Int)] = []
    /// Who may watch @releaseDomain and @introduceDomain (SET_PERMS on them): domain 0 only, by default.
    var releaseDomainPermissions: [XenstorePermission] = [.none(0)]
    var introduceDomainPermissions: [XenstorePermission] = [.none(0)]
    /// The domains introduced, as the population API described them.
    var domains: [XenstoreDomainInfo] = []

    // The request being processed (xenstored's conn->in and conn->transaction).
    var current = 0
    var request = XenstoreWire.Header(type: 0, requestID: 0, transactionID: 0, length: 0)
    var transaction: XenstoreTransaction?

    public init(quota: XenstoreQuota = XenstoreQuota()) {
        self.quota = quota
        // xenstored's setup_structure: "/", "/tool", "/tool/xenstored", owned by domain 0, "n0".
        let perms: [XenstorePermission] = [.none(0)]
        nodes[XenstorePath.root] = XenstoreNode(permissions: perms, children: [XenstoreBytes.string("tool")])
        nodes[XenstoreBytes.string("/tool")] = XenstoreNode(permissions: perms, children: [XenstoreBytes.string("xenstored")])
        nodes[XenstoreBytes.string("/tool/xenstored")] = XenstoreNode(permissions: perms)
        entryCounts = [(0, 3)]
    }

    var caller: XenstoreConnection { connections[current] }
    var callerDomid: UInt32 { connections[current].domid }
    var unprivileged: Bool { !connections[current].privileged }

    func connectionIndex(_ domid: UInt32) -> Int? {
        for i in connections.indices where connections[i].domid == domid { return i }
        return nil
    }

    // MARK: Requests and replies

    /// Operations only the privileged domain may send (XS_FLAG_PRIV): EACCES to a guest.
    static func isPrivileged(_ type: XenstoreWire.MessageType) -> Bool {
        switch type {
        case .control, .introduce, .release, .isDomainIntroduced, .resume, .setTarget: return true
        default: return false
        }
    }

    /// Handles one complete request from connection `index`, queueing its reply
    /// (xenstored's process_message).
    func process(connection index: Int, header: XenstoreWire.Header, payload: [UInt8]) {
        current = index
        request = header
        transaction = nil
        guard let type = XenstoreWire.MessageType(rawValue: header.type), type != .watchEvent, type != .error else {
            return sendError(.enosys)
        }
        if XenstoreServer.isPrivileged(type) && unprivileged { return sendError(.eacces) }
        var txIndex: Int?
        if type != .watch && type != .unwatch && header.transactionID != 0 {
            guard let i = connections[index].transactionIndex(header.transactionID) else { return sendError(.enoent) }
            txIndex = i
            transaction = connections[index].transactions[i]
        }
        do {
            try perform(type, payload)
        } catch {
            sendError(error)
        }
        // Put the transaction's new state back, unless TRANSACTION_END or RESET_WATCHES ended it.
        if let i = txIndex, let t = transaction, i < connections[index].transactions.count,
           connections[index].transactions[i].id == t.id {
            connections[index].transactions[i] = t
        }
        transaction = nil
    }

    func perform(_ type: XenstoreWire.MessageType, _ payload: [UInt8]) throws(XenstoreError) {
        switch type {
        case .directory: try directory(payload)
        case .directoryPart: try directoryPart(payload)
        case .read: try read(payload)
        case .getPerms: try getPermissions(payload)
        case .write: try write(payload)
        case .mkdir: try mkdir(payload)
        case .rm: try remove(payload)
        case .setPerms: try setPermissions(payload)
        case .watch: try watch(payload)
        case .unwatch: try unwatch(payload)
        case .transactionStart: try transactionStart(payload)
        case .transactionEnd: try transactionEnd(payload)
        case .getDomainPath: try getDomainPath(payload)
        case .isDomainIntroduced: try isDomainIntroduced(payload)
        case .resetWatches: resetWatches()
        case .control, .introduce, .release, .resume, .setTarget, .watchEvent, .error:
            // Domains come and go through the hypervisor's API, not over the wire.
            throw .enosys
        }
    }

    /// send_reply: the reply echoes the request's req_id and tx_id; too long a payload is E2BIG.
    func sendReply(_ type: XenstoreWire.MessageType, _ payload: [UInt8]) {
        guard payload.count <= XenstoreWire.payloadMax else { return sendError(.e2big) }
        queue(XenstoreWire.message(type: type, requestID: request.requestID, transactionID: request.transactionID,
                                   payload: payload), event: false, to: current)
    }

    func sendAck(_ type: XenstoreWire.MessageType) { sendReply(type, XenstoreBytes.string("OK") + [0]) }

    func sendError(_ error: XenstoreError) { sendReply(.error, error.payload) }

    func queue(_ message: [UInt8], event: Bool, to index: Int) {
        connections[index].output.append(message)
        connections[index].outputIsEvent.append(event)
    }

    /// onearg: the payload is exactly one string (its only NUL is its last byte).
    static func oneArgument(_ payload: [UInt8]) -> [UInt8]? {
        guard let last = payload.last, last == 0 else { return nil }
        for i in 0..<(payload.count - 1) where payload[i] == 0 { return nil }
        return Array(payload[0..<(payload.count - 1)])
    }
}
