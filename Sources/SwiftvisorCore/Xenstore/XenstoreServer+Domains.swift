/// What the hypervisor asks of the store, as the privileged domain 0: bringing a guest in the
/// way `xl create` populates the store for a domU (tools/libs/light/libxl_create.c
/// libxl__domain_make and libxl_dom.c libxl__build_post of Xen 4.17), taking it out as
/// `xl destroy` and xenstored do, asking it to shut down as `xl shutdown`, watching nodes, and
/// plain reads and writes.
public struct XenstoreDomainInfo {
    public var domid: UInt16
    public var name: [UInt8]
    /// The 16 bytes of the guest's UUID (xen_domain_handle_t).
    public var uuid: [UInt8]
    public var vcpus: Int
    /// Guest memory in KiB (memory/static-max and memory/target).
    public var memoryKiB: UInt64
    /// memory/target in KiB, when it is not all of `memoryKiB` (a driver domain's grant reserve).
    public var targetKiB: UInt64?
    /// The store ring's event channel port and guest frame number, once the glue has them.
    public var storePort: UInt32?
    public var storeFrame: UInt64?
    /// The PV console ring's port and guest frame number, if the guest has one.
    public var consolePort: UInt32?
    public var consoleFrame: UInt64?
    /// When the domain was created, in hundredths of a second since the Unix epoch, if the
    /// hypervisor knows the wallclock (/vm/<uuid>/start_time, "%llu.%02ld" as libxl writes it).
    public var startTimeHundredths: UInt64?

    public init(domid: UInt16, name: [UInt8], uuid: [UInt8], vcpus: Int, memoryKiB: UInt64) {
        self.domid = domid
        self.name = name
        self.uuid = uuid
        self.vcpus = vcpus
        self.memoryKiB = memoryKiB
    }

    /// "/local/domain/N".
    public var path: [UInt8] { XenstorePath.domainPath(UInt32(domid)) }
    /// "/vm/<uuid>".
    public var vmPath: [UInt8] { XenstoreBytes.string("/vm/") + XenstoreServer.uuidText(uuid) }
}

/// A WATCH_EVENT for the hypervisor's own watches.
public struct XenstoreWatchEvent: Equatable {
    public var path: [UInt8]
    public var token: [UInt8]
}

/// What `xl shutdown`/`xl reboot` write to control/shutdown.
public enum XenstoreShutdownRequest {
    case poweroff, reboot, suspend, halt

    var value: [UInt8] {
        switch self {
        case .poweroff: return XenstoreBytes.string("poweroff")
        case .reboot: return XenstoreBytes.string("reboot")
        case .suspend: return XenstoreBytes.string("suspend")
        case .halt: return XenstoreBytes.string("halt")
        }
    }
}

extension XenstoreServer {
    // MARK: Requests as domain 0

    /// Runs one request as the hypervisor (domain 0) and returns the reply's type and payload.
    /// Watch events for the hypervisor stay queued for `takeWatchEvents()`.
    public func request(_ type: XenstoreWire.MessageType, _ payload: [UInt8], transaction: UInt32 = 0)
        -> (type: XenstoreWire.MessageType, payload: [UInt8]) {
        let header = XenstoreWire.Header(type: type.rawValue, requestID: 0, transactionID: transaction, length: UInt32(payload.count))
        let before = connections[0].output.count
        process(connection: 0, header: header, payload: payload)
        // The reply is the first non-event message queued by this request.
        var i = before
        while i < connections[0].output.count && connections[0].outputIsEvent[i] { i += 1 }
        guard i < connections[0].output.count else { return (.error, XenstoreError.eio.payload) }
        let message = connections[0].output.remove(at: i)
        connections[0].outputIsEvent.remove(at: i)
        let replyType = XenstoreWire.MessageType(rawValue: XenstoreWire.Header(decoding: message).type) ?? .error
        return (replyType, Array(message[XenstoreWire.headerSize...]))
    }

    /// The value at an absolute `path`, or nil if there is none.
    public func value(at path: [UInt8]) -> [UInt8]? {
        let reply = request(.read, path + [0])
        return reply.type == .read ? reply.payload : nil
    }

    /// Writes `value` at an absolute `path` (creating it), firing watches.
    @discardableResult
    public func write(_ path: [UInt8], value: [UInt8]) -> XenstoreError? {
        error(of: request(.write, path + [0] + value))
    }

    /// The children of `path`, or nil if there is no such node.
    public func children(_ path: [UInt8]) -> [[UInt8]]? {
        let reply = request(.directory, path + [0])
        guard reply.type == .directory else { return nil }
        return XenstoreBytes.strings(reply.payload).map { Array(reply.payload[$0]) }
    }

    /// Watches `path` (or @introduceDomain/@releaseDomain) for the hypervisor. The first event
    /// comes at once, as for any watcher.
    @discardableResult
    public func watch(_ path: [UInt8], token: [UInt8]) -> XenstoreError? {
        error(of: request(.watch, path + [0] + token + [0]))
    }

    @discardableResult
    public func unwatch(_ path: [UInt8], token: [UInt8]) -> XenstoreError? {
        error(of: request(.unwatch, path + [0] + token + [0]))
    }

    /// The events of the hypervisor's watches since the last call, oldest first.
    public func takeWatchEvents() -> [XenstoreWatchEvent] {
        var events: [XenstoreWatchEvent] = []
        for message in connections[0].output {
            let payload = Array(message[XenstoreWire.headerSize...])
            let strings = XenstoreBytes.strings(payload)
            if strings.count == 2 { events.append(XenstoreWatchEvent(path: Array(payload[strings[0]]), token: Array(payload[strings[1]]))) }
        }
        connections[0].output = []
        connections[0].outputIsEvent = []
        return events
    }

    /// Asks a guest to power off, reboot, ... as `xl shutdown` does: writes control/shutdown,
    /// which the guest watches. False if there is no such domain.
    @discardableResult
    public func requestShutdown(_ domid: UInt16, _ reason: XenstoreShutdownRequest) -> Bool {
        guard connectionIndex(UInt32(domid)) != nil else { return false }
        return write(XenstorePath.domainPath(UInt32(domid)) + XenstoreBytes.string("/control/shutdown"), value: reason.value) == nil
    }

    /// Whether the guest has introduced itself to the store by domid.
    public func isIntroduced(_ domid: UInt16) -> Bool { domid != 0 && connectionIndex(UInt32(domid)) != nil }

    private func error(of reply: (type: XenstoreWire.MessageType, payload: [UInt8])) -> XenstoreError? {
        guard reply.type == .error else { return nil }
        for e in 0...XenstoreError.eperm.rawValue {
            if let known = XenstoreError(rawValue: e), known.payload == reply.payload { return known }
        }
        return .einval
    }

    // MARK: Domains

    /// Populates the store for a domU as `xl create` does and introduces the domain (its ring
    /// connection exists from now on), firing @introduceDomain.
    public func introduce(_ domain: XenstoreDomainInfo) {
        let dom = domain.path, vm = domain.vmPath
        let id = Int32(domain.domid)
        let readOnly: [XenstorePermission] = [.none(0), .read(id)]
        let guestOwned: [XenstorePermission] = [.none(id)]
        let hidden: [XenstorePermission] = [.none(0)]
        let libxl = XenstoreBytes.string("/libxl/") + XenstoreBytes.decimal(UInt64(domain.domid))
        func s(_ text: StaticString) -> [UInt8] { XenstoreBytes.string(text) }
        func number(_ v: UInt64) -> [UInt8] { XenstoreBytes.decimal(v) }

        // The domain must exist before SET_PERMS names it.
        if connectionIndex(UInt32(domain.domid)) == nil {
            connections.append(XenstoreConnection(domid: UInt32(domain.domid), privileged: false))
        }
        domains.removeAll { $0.domid == domain.domid }
        domains.append(domain)

        _ = request(.rm, dom + [0]); makeNode(dom, readOnly)
        _ = request(.rm, vm + [0]); makeNode(vm, readOnly)
        _ = request(.rm, libxl + [0]); makeNode(libxl, hidden); makeNode(libxl + s("/device"), hidden)
        write(dom + s("/vm"), value: vm)
        write(dom + s("/name"), value: domain.name)
        write(vm + s("/name"), value: domain.name)
        makeNode(dom + s("/cpu"), readOnly)
        makeNode(dom + s("/memory"), readOnly)
        makeNode(dom + s("/device"), readOnly)
        makeNode(dom + s("/device/suspend/event-channel"), guestOwned)
        makeNode(dom + s("/control"), readOnly)
        for name: StaticString in ["shutdown", "feature-poweroff", "feature-reboot", "feature-suspend", "sysrq"] {
            makeNode(dom + s("/control/") + s(name), guestOwned)
        }
        for name: StaticString in ["data", "drivers", "feature", "attr", "error"] { makeNode(dom + s("/") + s(name), guestOwned) }
        write(vm + s("/uuid"), value: XenstoreServer.uuidText(domain.uuid))
        write(vm + s("/name"), value: domain.name)
        write(dom + s("/control/platform-feature-multiprocessor-suspend"), value: s("1"))
        write(dom + s("/control/platform-feature-xs_reset_watches"), value: s("1"))
        write(libxl + s("/type"), value: s("pvh"))
        // libxl__domain_build for a PVH guest (Arm's only kind): /vm/<uuid>/start_time.
        if let t = domain.startTimeHundredths {
            let hundredths = t % 100
            write(vm + s("/start_time"), value: number(t / 100) + s(".") + (hundredths < 10 ? s("0") : []) + number(hundredths))
        }
        // libxl__build_post.
        write(dom + s("/memory/static-max"), value: number(domain.memoryKiB))
        write(dom + s("/memory/target"), value: number(domain.targetKiB ?? domain.memoryKiB))
        write(dom + s("/memory/videoram"), value: s("0"))
        write(dom + s("/domid"), value: number(UInt64(domain.domid)))
        if let port = domain.storePort { write(dom + s("/store/port"), value: number(UInt64(port))) }
        if let frame = domain.storeFrame { write(dom + s("/store/ring-ref"), value: number(frame)) }
        if let port = domain.consolePort { write(dom + s("/console/port"), value: number(UInt64(port))) }
        if let frame = domain.consoleFrame { write(dom + s("/console/ring-ref"), value: number(frame)) }
        for cpu in 0..<max(domain.vcpus, 0) {
            write(dom + s("/cpu/") + number(UInt64(cpu)) + s("/availability"), value: s("online"))
        }
        current = 0
        fireWatches(XenstoreServer.introduceDomain, node: nil, exact: true)
    }

    /// libxl__xs_mknod: an empty node with these permissions.
    private func makeNode(_ path: [UInt8], _ permissions: [XenstorePermission]) {
        _ = request(.mkdir, path + [0])
        _ = request(.setPerms, path + [0] + permissions.wireBytes)
    }

    /// Takes a domain out as `xl destroy` and xenstored do: its nodes under /local/domain/N,
    /// /vm/<uuid> and /libxl/N are removed (firing watches), its watches and transactions are
    /// dropped, entries naming it in other nodes' permissions stop counting (domain 0 takes
    /// over what it owned elsewhere), and @releaseDomain fires.
    public func release(_ domid: UInt16) {
        guard domid != 0, let index = connectionIndex(UInt32(domid)) else { return }
        let info = domains.first { $0.domid == domid }
        _ = request(.rm, XenstorePath.domainPath(UInt32(domid)) + [0])
        if let info { _ = request(.rm, info.vmPath + [0]) }
        _ = request(.rm, XenstoreBytes.string("/libxl/") + XenstoreBytes.decimal(UInt64(domid)) + [0])
        connections.remove(at: index)
        domains.removeAll { $0.domid == domid }
        let gone = Int32(domid)
        var moved = 0
        for i in 0..<nodes.count {
            var (path, node) = nodes.entry(at: i)
            var changed = false
            for p in node.permissions.indices.dropFirst() where node.permissions[p].domid == gone {
                node.permissions[p].access = node.permissions[p].access.union(.ignore)
                changed = true
            }
            if node.permissions[0].domid == gone { node.permissions[0].domid = 0; moved += 1; changed = true }
            if changed { nodes[path] = node }
        }
        entryCounts.removeAll { $0.domid == gone }
        applyEntries(of: 0, moved)
        current = 0
        fireWatches(XenstoreServer.releaseDomain, node: nil, exact: true)
    }

    /// A UUID as text, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (libxl's LIBXL_UUID_FMT).
    static func uuidText(_ uuid: [UInt8]) -> [UInt8] {
        let hex = XenstoreBytes.string("0123456789abcdef")
        var out: [UInt8] = []
        for (i, b) in uuid.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(0x2D) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return out
    }
}
