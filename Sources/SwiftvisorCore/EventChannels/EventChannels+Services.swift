/// Domain 0 stands for the hypervisor's own services: what xenstored and xenconsoled, which
/// in Xen run in dom0, do for a domU. At every boot of a guest, as the toolstack does
/// (alloc_unbound for dom0, then dom0's bind_interdomain: libxl__build_pre, or
/// alloc_xenstore_evtchn for dom0less), each service gets a port of the guest bound to
/// domain 0's port numbered by the service. The guest sees an ordinary interdomain channel
/// (EVTCHNOP_status: interdomain, domain 0, the service's port); the hypervisor's end has no
/// table: no guest can bind, close or reset it. Closing its own end leaves the service's end
/// unbound, offered to the guest, which may bind it again with bind_interdomain(0, service)
/// as a domU may re-bind to dom0's port after EVTCHNOP_reset.
extension XenDomainID {
    /// Domain 0: the hypervisor's services (there is no dom0 guest).
    public static let hypervisor = XenDomainID(rawValue: 0)
}

extension EventChannels {
    /// A hypervisor service, numbered by its port in domain 0.
    public enum Service: UInt32, CaseIterable {
        case xenstore = 1
        case console = 2

        var slot: Int { Int(rawValue) - 1 }
    }

    /// The guest's new port bound to `service`, made at its (re)boot after `start` (the store's
    /// first, then the console's, as libxl allocates them). Nil if `d` is not live or has no
    /// free port, or if the service is connected already.
    public mutating func connect(_ service: Service, to d: XenDomainID) -> UInt32? {
        guard let i = index(d), domains[i].live, !domains[i].serviceOffered[service.slot],
              case .success(let port) = freePort(d) else { return nil }
        domains[i].serviceOffered[service.slot] = true
        domains[i].servicePorts[service.slot] = port
        domains[i].ports[Int(port)].state = .interdomain(remote: .hypervisor, port: service.rawValue)
        return port
    }

    /// The delivery that notifies `d` for `service` (the glue's notify), nil while the guest's
    /// end is closed or the service was never connected.
    public func notify(_ service: Service, of d: XenDomainID) -> Delivery? {
        guard let i = index(d), domains[i].live, let port = domains[i].servicePorts[service.slot] else { return nil }
        return Delivery(domain: d, port: port, vcpu: domains[i].ports[Int(port)].notifyVCPU)
    }

    /// The guest's port bound to `service`, if it is bound.
    public func port(of service: Service, in d: XenDomainID) -> UInt32? {
        guard let i = index(d), domains[i].live else { return nil }
        return domains[i].servicePorts[service.slot]
    }

    /// EVTCHNOP_bind_interdomain with domain 0: only a service of the caller whose end the
    /// caller closed (-EINVAL otherwise, as for a dom0 port not offered to it).
    mutating func bindService(caller: XenDomainID, servicePort: UInt32) -> Result<(port: UInt32, delivery: Delivery), XenABI.Errno> {
        guard let i = index(caller) else { return .failure(.esrch) }
        let local: UInt32
        switch freePort(caller) { case .failure(let e): return .failure(e); case .success(let p): local = p }
        guard let s = Service(rawValue: servicePort), domains[i].serviceOffered[s.slot],
              domains[i].servicePorts[s.slot] == nil else { return .failure(.einval) }
        domains[i].servicePorts[s.slot] = local
        domains[i].ports[Int(local)].state = .interdomain(remote: .hypervisor, port: servicePort)
        return .success((local, Delivery(domain: caller, port: local, vcpu: domains[i].ports[Int(local)].notifyVCPU)))
    }
}
