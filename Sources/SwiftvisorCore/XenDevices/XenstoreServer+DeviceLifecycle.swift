/// The PV devices follow their two guests: a device's nodes exist while both its frontend and
/// its backend domain are introduced, as `xl` adds a domU's devices at `xl create` and removes
/// them at `xl destroy` (and, for a driver domain that goes away, as its frontends' devices are
/// unplugged: Linux's xenbus removes a device whose `device/KIND/N` node goes).
///
/// A guest keeps its domid across reboots (Xen gives a rebooted domU a new one), so a rebooted
/// frontend's device is written again at the same backend path: only once the backend has
/// closed the old one (`closeDevice`, `settleDevices`), or Linux's backend would find its old
/// device still there and carry on with it, without the keys its probe writes.
extension XenstoreServer {
    /// After `domid` is introduced: writes the nodes of each of `devices` it is an end of
    /// (frontend or backend) whose other end is introduced too, that is not still closing and
    /// whose backend is `backendReady` (the glue waits for a driver domain's first store request:
    /// written at once at its reboot, the nodes would reach a frontend that has not yet unplugged
    /// the old device, and Linux's xenbus keeps a device whose node comes back before it noticed
    /// it gone). Returns them, in order.
    @discardableResult
    public func connectDevices(of domid: XenDomainID, _ devices: [XenDevice],
                               backendReady: (XenDomainID) -> Bool = { _ in true }) -> [XenDevice] {
        var connected: [XenDevice] = []
        for d in devices where (d.frontendDomain == domid || d.backendDomain == domid) && backendReady(d.backendDomain) {
            if isParked(d) {
                if restoreBackend(d) { connected.append(d) }
            } else if !hasDevice(d) && addDevice(d) { connected.append(d) }
        }
        return connected
    }

    /// Before `domid` is released (it ended or reboots): each of `devices` it is an end of that
    /// has nodes is torn down. As a frontend, its directory goes and the backend is asked to
    /// close (`closeDevice`: netback/blkback unregister the device); as a backend, everything
    /// goes at once, the frontends' `device/KIND/N` directories first (netfront/blkfront unplug
    /// it). Returns them, in order.
    @discardableResult
    public func disconnectDevices(of domid: XenDomainID, _ devices: [XenDevice]) -> [XenDevice] {
        var torn: [XenDevice] = []
        for d in devices where d.frontendDomain == domid || d.backendDomain == domid {
            guard hasDevice(d) else { continue }
            if d.backendDomain == domid {
                if isParked(d) || parkDevice(d) { torn.append(d); continue }
                removeDevice(d)
            } else { closeDevice(d) }
            torn.append(d)
        }
        return torn
    }

    /// Whether any of `devices` waits for its backend to close.
    public func hasClosingDevices(_ devices: [XenDevice]) -> Bool {
        devices.contains { isClosing($0) }
    }

    /// After a guest changed the store: each closing device whose backend has closed is removed,
    /// and written again if its frontend is back. Returns those written again, in order.
    @discardableResult
    public func settleDevices(_ devices: [XenDevice]) -> [XenDevice] {
        var connected: [XenDevice] = []
        for d in devices where finishClosing(d) {
            if addDevice(d) { connected.append(d) }
        }
        return connected
    }
}
