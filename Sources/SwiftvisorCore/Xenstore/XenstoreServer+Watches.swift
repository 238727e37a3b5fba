/// Watches (tools/xenstore/xenstored_watch.c): WATCH, UNWATCH, RESET_WATCHES and the
/// WATCH_EVENT messages a change sends to every watcher allowed to see it.
extension XenstoreServer {
    static let releaseDomain = XenstoreBytes.string("@releaseDomain")
    static let introduceDomain = XenstoreBytes.string("@introduceDomain")

    func specialPermissions(_ name: [UInt8]) -> [XenstorePermission]? {
        if name == XenstoreServer.releaseDomain { return releaseDomainPermissions }
        if name == XenstoreServer.introduceDomain { return introduceDomainPermissions }
        return nil
    }

    /// WATCH <path>|<token>| -> OK|, then at once a first event for the path.
    func watch(_ payload: [UInt8]) throws(XenstoreError) {
        let strings = XenstoreBytes.strings(payload)
        guard strings.count == 2 else { throw .einval }
        var path = Array(payload[strings[0]])
        let token = Array(payload[strings[1]])
        let relative: Bool
        if path.first == XenstorePath.at {
            relative = false
            if path.count > XenstoreWire.relativePathMax { throw .einval }
        } else {
            relative = path.first != XenstorePath.slash
            path = canonical(path)
            guard XenstorePath.isValidNodeName(path, maxRelativeLength: quota.maxPathLength) else { throw .einval }
        }
        for w in caller.watches where w.path == path && w.token == token { throw .eexist }
        if unprivileged && caller.watches.count > quota.watchesPerDomain { throw .e2big }
        let watch = XenstoreWatch(path: path, token: token, relative: relative)
        connections[current].watches.append(watch)
        sendAck(.watch)
        sendEvent(to: current, path: eventPath(watch, path, domid: callerDomid), token: token)
    }

    /// UNWATCH <path>|<token>| -> OK|
    func unwatch(_ payload: [UInt8]) throws(XenstoreError) {
        let strings = XenstoreBytes.strings(payload)
        guard strings.count == 2 else { throw .einval }
        let path = canonical(Array(payload[strings[0]]))
        let token = Array(payload[strings[1]])
        for (i, w) in caller.watches.enumerated() where w.path == path && w.token == token {
            connections[current].watches.remove(at: i)
            return sendAck(.unwatch)
        }
        throw .enoent
    }

    /// RESET_WATCHES| -> OK|: drops the caller's watches and transactions.
    func resetWatches() {
        connections[current].watches = []
        connections[current].transactions = []
        transaction = nil
        sendAck(.resetWatches)
    }

    /// The path an event reports: relative to the domain's home for a relative watch.
    func eventPath(_ watch: XenstoreWatch, _ path: [UInt8], domid: UInt32) -> [UInt8] {
        guard watch.relative else { return path }
        let home = XenstorePath.domainPath(domid)
        var rest = Array(path.dropFirst(min(home.count, path.count)))
        if rest.first == XenstorePath.slash { rest.removeFirst() }
        return rest
    }

    /// fire_watches: a change of `path` (with `node` its state, and `oldPermissions` what it
    /// allowed before a SET_PERMS) reaches the watches on it and on its ancestors, or only
    /// those on it when `exact` (a removed node below the one removed). Inside a transaction the
    /// events wait for its successful end.
    func fireWatches(_ path: [UInt8], node: XenstoreNode?, exact: Bool, oldPermissions: [XenstorePermission]? = nil) {
        if transaction != nil {
            guard transaction!.accessed[path] != nil else { transaction!.failed = true; return }
            if !transaction!.accessed[path]!.fireWatch {
                transaction!.accessed[path]!.fireWatch = true
                transaction!.accessed[path]!.watchExact = exact
            } else if !exact {
                transaction!.accessed[path]!.watchExact = false
            }
            return
        }
        let special = path.first == XenstorePath.at
        for i in connections.indices where !connections[i].ignored && !connections[i].watches.isEmpty {
            let c = connections[i]
            if special {
                guard let perms = specialPermissions(path),
                      perms.access(for: c.domid, privileged: c.privileged).contains(.read) else { continue }
            } else if !watchPermitted(c, path, node, oldPermissions) {
                continue
            }
            for w in c.watches where exact ? path == w.path : XenstorePath.isWithin(path, w.path) {
                sendEvent(to: i, path: eventPath(w, path, domid: c.domid), token: w.token)
            }
        }
    }

    /// watch_permitted: the watcher may read the node (before or after the change) or its parent.
    private func watchPermitted(_ c: XenstoreConnection, _ path: [UInt8], _ node: XenstoreNode?,
                                _ oldPermissions: [XenstorePermission]?) -> Bool {
        if let old = oldPermissions, old.access(for: c.domid, privileged: c.privileged).contains(.read) { return true }
        guard let node = node ?? nodes[path] else { return false }
        if node.permissions.access(for: c.domid, privileged: c.privileged).contains(.read) { return true }
        guard let parent = nodes[XenstorePath.parent(path)] else { return false }
        return parent.permissions.access(for: c.domid, privileged: c.privileged).contains(.read)
    }

    /// send_event: queues WATCH_EVENT <path>|<token>|, unless too long, already queued
    /// (special paths excepted), or over the connection's memory quota.
    func sendEvent(to index: Int, path: [UInt8], token: [UInt8]) {
        let payload = path + [0] + token + [0]
        guard payload.count <= XenstoreWire.payloadMax else { return }
        let message = XenstoreWire.message(type: .watchEvent, requestID: 0, transactionID: 0, payload: payload)
        let c = connections[index]
        if path.first != XenstorePath.at {
            for (i, m) in c.output.enumerated() where c.outputIsEvent[i] && m == message && (i > 0 || c.outputSent == 0) { return }
        }
        if !c.privileged && c.queuedBytes + message.count > quota.queuedBytesPerDomain { return }
        queue(message, event: true, to: index)
    }
}
