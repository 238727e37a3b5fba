/// Xen's event channels, the 2-level ABI (xen/common/event_channel.c, event_2l.c; public/
/// event_channel.h), for every domain at once: a port's state, its peer, the vCPU it notifies.
/// The pending and mask bits live in the guests' shared_info pages (`EventChannel2Level`); this
/// is the port table the hypervisor keeps, and each operation checks its arguments and answers
/// with the errno Xen 4.17 gives a domU under the default XSM policy.
public struct EventChannels {
    /// 2-level on a 64-bit guest: 64 words of 64 bits (EVTCHN_2L_NR_CHANNELS).
    public static let portLimit: UInt32 = 64 * 64
    /// Xen allocates ports in buckets of one page of 64-byte `struct evtchn`s; a port is "valid"
    /// (`port_is_valid`) once its bucket exists, which decides -EINVAL against "closed".
    public static let bucket: UInt32 = 64
    /// NR_VIRQS (xen.h).
    public static let virqCount: UInt32 = 24

    /// `struct evtchn`'s state (ECS_*), with what each state names.
    public enum State: Equatable {
        case free
        /// Port 0: never bound.
        case reserved
        /// Waiting for `remote` (a domid) to bind to it.
        case unbound(remote: UInt16)
        case interdomain(remote: XenDomainID, port: UInt32)
        case virq(UInt32)
        case ipi
    }

    public struct Port: Equatable {
        public var state: State = .free
        public var notifyVCPU: Int = 0
    }

    /// One domain's ports.
    public struct Domain {
        public var ports: [Port] = []
        /// Live: its ports may be named by others (not shut down, not being rebuilt).
        public var live = false
        public var vcpus = 1
        /// virq_to_evtchn, per vCPU: a port, or 0.
        var virqPorts: [UInt32] = []
        /// Per hypervisor service (`Service.rawValue - 1`): whether it was connected at this
        /// boot, and the guest's port bound to it (nil once the guest closed its end).
        var serviceOffered: [Bool] = [false, false]
        var servicePorts: [UInt32?] = [nil, nil]

        /// `port_is_valid`: below the end of the allocated buckets.
        public func isValid(_ port: UInt32) -> Bool { port < UInt32(ports.count) }
    }

    /// A port whose pending bit must be set in `domain`'s shared_info, notifying `vcpu`.
    public struct Delivery: Equatable {
        public var domain: XenDomainID
        public var port: UInt32
        public var vcpu: Int
        public init(domain: XenDomainID, port: UInt32, vcpu: Int) { self.domain = domain; self.port = port; self.vcpu = vcpu }
    }

    /// EVTCHNOP_status's answer (`struct evtchn_status` from `status` on).
    public struct Status: Equatable {
        /// EVTCHNSTAT_*: closed 0, unbound 1, interdomain 2, pirq 3, virq 4, ipi 5.
        public var status: UInt32
        public var vcpu: UInt32
        /// unbound: the domid; interdomain: the domid and port; virq: the VIRQ.
        public var first: UInt32 = 0
        public var second: UInt32 = 0
    }

    public internal(set) var domains: [Domain]

    public init(domainCount: Int) { domains = Array(repeating: Domain(), count: domainCount) }

    // MARK: life of a domain

    /// A domain (re)starts: a fresh table with port 0 reserved (evtchn_init).
    public mutating func start(_ d: XenDomainID, vcpus: Int) {
        guard let i = index(d) else { return }
        var domain = Domain()
        domain.live = true
        domain.vcpus = vcpus
        domain.virqPorts = Array(repeating: 0, count: vcpus * Int(Self.virqCount))
        domain.ports = Array(repeating: Port(), count: Int(Self.bucket))
        domain.ports[0].state = .reserved
        domains[i] = domain
    }

    /// A domain shuts down, reboots or is destroyed: every port is closed as `evtchn_destroy`
    /// does, so each interdomain peer's port becomes unbound, waiting for this domid again.
    public mutating func destroy(_ d: XenDomainID) {
        guard let i = index(d), domains[i].live else { return }
        domains[i].live = false
        var port = UInt32(domains[i].ports.count)
        while port > 1 {
            port -= 1
            _ = closePort(d, port)
        }
        domains[i].ports = []
    }

    // MARK: operations (EVTCHNOP_*), as the calling domain `caller` asks them

    /// EVTCHNOP_alloc_unbound: a new port of `dom` (only the caller itself) that `remote` may bind.
    /// The remote domain need not exist yet (Xen does not look it up).
    public mutating func allocUnbound(caller: XenDomainID, dom: UInt16, remote: UInt16) -> Result<UInt32, XenABI.Errno> {
        if dom == XenDomainID.hypervisor.rawValue { return .failure(.eperm) }   // dom0 exists; not the caller
        guard let d = liveDomain(dom, caller: caller) else { return .failure(.esrch) }
        guard d == caller else { return .failure(.eperm) }      // xsm_evtchn_unbound, XSM_TARGET
        let port: UInt32
        switch freePort(d) { case .failure(let e): return .failure(e); case .success(let p): port = p }
        set(d, port, .unbound(remote: remote == XenDomainID.selfID ? caller.rawValue : remote))
        return .success(port)
    }

    /// EVTCHNOP_bind_interdomain: a new local port joined to `remotePort` of `remoteDom`, which
    /// must be unbound and offered to the caller. Returns the local port, which Xen sets pending
    /// (a notification may have been lost while the remote port was unbound).
    public mutating func bindInterdomain(caller: XenDomainID, remoteDom: UInt16, remotePort: UInt32)
        -> Result<(port: UInt32, delivery: Delivery), XenABI.Errno> {
        if remoteDom == XenDomainID.hypervisor.rawValue { return bindService(caller: caller, servicePort: remotePort) }
        guard let r = liveDomain(remoteDom, caller: caller), let ri = index(r), let li = index(caller) else { return .failure(.esrch) }
        let local: UInt32
        switch freePort(caller) { case .failure(let e): return .failure(e); case .success(let p): local = p }
        guard domains[ri].isValid(remotePort), case .unbound(let offeredTo) = domains[ri].ports[Int(remotePort)].state,
              offeredTo == caller.rawValue else { return .failure(.einval) }
        domains[li].ports[Int(local)].state = .interdomain(remote: r, port: remotePort)
        domains[ri].ports[Int(remotePort)].state = .interdomain(remote: caller, port: local)
        return .success((local, Delivery(domain: caller, port: local, vcpu: domains[li].ports[Int(local)].notifyVCPU)))
    }

    /// EVTCHNOP_bind_virq: VIRQ `virq` of vCPU `vcpu` (a global VIRQ only on vCPU 0).
    public mutating func bindVIRQ(caller: XenDomainID, virq: UInt32, vcpu: UInt32) -> Result<UInt32, XenABI.Errno> {
        guard virq < Self.virqCount else { return .failure(.einval) }
        guard !Self.isGlobal(virq: virq) || vcpu == 0 else { return .failure(.einval) }
        guard let i = index(caller), vcpu < UInt32(domains[i].vcpus) else { return .failure(.enoent) }
        let slot = Int(vcpu) * Int(Self.virqCount) + Int(virq)
        guard domains[i].virqPorts[slot] == 0 else { return .failure(.eexist) }
        let port: UInt32
        switch freePort(caller) { case .failure(let e): return .failure(e); case .success(let p): port = p }
        domains[i].ports[Int(port)] = Port(state: .virq(virq), notifyVCPU: Int(vcpu))
        domains[i].virqPorts[slot] = port
        return .success(port)
    }

    /// EVTCHNOP_bind_ipi: a port that notifies the caller's vCPU `vcpu`.
    public mutating func bindIPI(caller: XenDomainID, vcpu: UInt32) -> Result<UInt32, XenABI.Errno> {
        guard let i = index(caller), vcpu < UInt32(domains[i].vcpus) else { return .failure(.enoent) }
        let port: UInt32
        switch freePort(caller) { case .failure(let e): return .failure(e); case .success(let p): port = p }
        domains[i].ports[Int(port)] = Port(state: .ipi, notifyVCPU: Int(vcpu))
        return .success(port)
    }

    /// EVTCHNOP_close: the port becomes free; an interdomain peer's port becomes unbound,
    /// offered to the caller again.
    public mutating func close(caller: XenDomainID, port: UInt32) -> XenABI.Errno? {
        guard let i = index(caller), domains[i].isValid(port) else { return .einval }
        return closePort(caller, port)
    }

    /// EVTCHNOP_send: the delivery to make, if any (an unbound port drops it silently). A
    /// delivery to `XenDomainID.hypervisor` is for the service numbered by its `port`.
    public func send(caller: XenDomainID, port: UInt32) -> Result<Delivery?, XenABI.Errno> {
        guard let i = index(caller), domains[i].isValid(port) else { return .failure(.einval) }
        let p = domains[i].ports[Int(port)]
        switch p.state {
        case .interdomain(let r, let rport) where r.rawValue == 0:
            // To a service of the hypervisor (domain 0): the delivery names it and the service.
            return .success(Delivery(domain: .hypervisor, port: rport, vcpu: 0))
        case .interdomain(let r, let rport):
            // (Both ends change together, so the peer's port is always there; checked anyway.)
            guard let ri = index(r), domains[ri].isValid(rport) else { return .failure(.einval) }
            return .success(Delivery(domain: r, port: rport, vcpu: domains[ri].ports[Int(rport)].notifyVCPU))
        case .ipi: return .success(Delivery(domain: caller, port: port, vcpu: p.notifyVCPU))
        case .unbound: return .success(nil)
        case .free, .reserved, .virq: return .failure(.einval)
        }
    }

    /// EVTCHNOP_status on `port` of `dom` (only the caller itself).
    public func status(caller: XenDomainID, dom: UInt16, port: UInt32) -> Result<Status, XenABI.Errno> {
        if dom == XenDomainID.hypervisor.rawValue { return .failure(.eperm) }
        guard let d = liveDomain(dom, caller: caller), let i = index(d) else { return .failure(.esrch) }
        guard domains[i].isValid(port) else { return .failure(.einval) }
        guard d == caller else { return .failure(.eperm) }     // xsm_evtchn_status, XSM_TARGET
        let p = domains[i].ports[Int(port)]
        var s = Status(status: 0, vcpu: UInt32(p.notifyVCPU))
        switch p.state {
        case .free, .reserved: s.status = 0
        case .unbound(let remote): s.status = 1; s.first = UInt32(remote)
        case .interdomain(let r, let rport): s.status = 2; s.first = UInt32(r.rawValue); s.second = rport
        case .virq(let v): s.status = 4; s.first = v
        case .ipi: s.status = 5
        }
        return .success(s)
    }

    /// EVTCHNOP_bind_vcpu: notify another vCPU (unbound, interdomain and global VIRQ ports).
    public mutating func bindVCPU(caller: XenDomainID, port: UInt32, vcpu: UInt32) -> XenABI.Errno? {
        guard let i = index(caller), vcpu < UInt32(domains[i].vcpus) else { return .enoent }
        guard domains[i].isValid(port) else { return .einval }
        switch domains[i].ports[Int(port)].state {
        case .virq(let v) where !Self.isGlobal(virq: v): return .einval
        case .virq, .unbound, .interdomain:
            domains[i].ports[Int(port)].notifyVCPU = Int(vcpu)
            return nil
        default: return .einval
        }
    }

    /// EVTCHNOP_unmask: the vCPU the port notifies, for the caller to clear its mask bit and
    /// deliver what is pending (event_2l.c); -EINVAL only for a port beyond the buckets.
    public func unmaskTarget(caller: XenDomainID, port: UInt32) -> Result<Int, XenABI.Errno> {
        guard let i = index(caller), domains[i].isValid(port) else { return .failure(.einval) }
        return .success(domains[i].ports[Int(port)].notifyVCPU)
    }

    /// EVTCHNOP_reset on `dom` (only the caller itself): every port closed, as after boot.
    /// Returns the ports closed, whose pending bits the caller clears.
    /// EVTCHNOP_reset_cont (`continuing`) only resumes a reset Xen preempted; none ever is
    /// here, so it is -EBUSY after the same checks.
    public mutating func reset(caller: XenDomainID, dom: UInt16, continuing: Bool = false) -> Result<[UInt32], XenABI.Errno> {
        if dom == XenDomainID.hypervisor.rawValue { return .failure(.eperm) }
        guard let d = liveDomain(dom, caller: caller), let i = index(d) else { return .failure(.esrch) }
        guard d == caller else { return .failure(.eperm) }     // xsm_evtchn_reset, XSM_TARGET
        if continuing { return .failure(.ebusy) }
        var closed: [UInt32] = []
        for port in 1..<UInt32(domains[i].ports.count) where domains[i].ports[Int(port)].state != .free {
            _ = closePort(d, port)
            closed.append(port)
        }
        return .success(closed)
    }

    /// The port bound to `virq` for `vcpu` (a global VIRQ: vCPU 0's), if any.
    public func port(virq: UInt32, vcpu: Int, of d: XenDomainID) -> UInt32? {
        guard let i = index(d), domains[i].live, virq < Self.virqCount else { return nil }
        let v = Self.isGlobal(virq: virq) ? 0 : vcpu
        guard v < domains[i].vcpus else { return nil }
        let port = domains[i].virqPorts[v * Int(Self.virqCount) + Int(virq)]
        return port == 0 ? nil : port
    }

    /// The vCPU `port` of `d` notifies (for delivery), or nil when it is not valid.
    public func notifyVCPU(_ d: XenDomainID, port: UInt32) -> Int? {
        guard let i = index(d), domains[i].isValid(port) else { return nil }
        return domains[i].ports[Int(port)].notifyVCPU
    }

    public func isLive(_ d: XenDomainID) -> Bool { index(d).map { domains[$0].live } ?? false }

    /// VIRQ_TIMER, VIRQ_DEBUG, VIRQ_XENOPROF and VIRQ_XENPMU are per vCPU; every other one
    /// (the arch VIRQs too, on Arm) is global (virq_is_global).
    public static func isGlobal(virq: UInt32) -> Bool {
        switch virq { case 0, 1, 7, 13: return false; default: return true }
    }

    // MARK: helpers

    func index(_ d: XenDomainID) -> Int? {
        let i = d.guestIndex
        return i >= 0 && i < domains.count ? i : nil
    }

    /// `rcu_lock_domain_by_any_id`: DOMID_SELF is the caller; another ID must name a live domain.
    func liveDomain(_ requested: UInt16, caller: XenDomainID) -> XenDomainID? {
        guard let d = XenDomainID.resolve(requested, caller: caller), let i = index(d), domains[i].live else { return nil }
        return d
    }

    /// `get_free_port`: the lowest free port, growing the table a bucket at a time; -ENOSPC
    /// beyond the 2-level limit.
    mutating func freePort(_ d: XenDomainID) -> Result<UInt32, XenABI.Errno> {
        guard let i = index(d), domains[i].live else { return .failure(.einval) }
        var port: UInt32 = 0
        while port < Self.portLimit {
            if !domains[i].isValid(port) { domains[i].ports += Array(repeating: Port(), count: Int(Self.bucket)) }
            if domains[i].ports[Int(port)].state == .free { return .success(port) }
            port += 1
        }
        return .failure(.enospc)
    }

    mutating func set(_ d: XenDomainID, _ port: UInt32, _ state: State) {
        guard let i = index(d) else { return }
        domains[i].ports[Int(port)].state = state
    }

    /// `evtchn_close` on a valid port.
    mutating func closePort(_ d: XenDomainID, _ port: UInt32) -> XenABI.Errno? {
        guard let i = index(d) else { return .einval }
        switch domains[i].ports[Int(port)].state {
        case .free, .reserved: return .einval
        case .unbound, .ipi: break
        case .virq(let virq):
            let v = Self.isGlobal(virq: virq) ? 0 : domains[i].ports[Int(port)].notifyVCPU
            domains[i].virqPorts[v * Int(Self.virqCount) + Int(virq)] = 0
        case .interdomain(let r, let rport) where r == .hypervisor:
            // The service's end stays, unbound: the guest may bind it again.
            if let s = Service(rawValue: rport) { domains[i].servicePorts[s.slot] = nil }
        case .interdomain(let r, let rport):
            if let ri = index(r), domains[ri].isValid(rport) {
                domains[ri].ports[Int(rport)].state = .unbound(remote: d.rawValue)
            }
        }
        // evtchn_free: the channel goes back to vCPU 0.
        domains[i].ports[Int(port)] = Port()
        return nil
    }
}
