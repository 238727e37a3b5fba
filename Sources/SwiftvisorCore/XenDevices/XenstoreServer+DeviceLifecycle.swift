/// The PV devices follow their two guests: a device's nodes exist while both its frontend and
/// its backend domain are introduced, as `xl` adds a domU's devices at `xl create` and removes
/// them at `xl destroy` (and, for a driver domain that goes away, as its frontends' devices are
/// unplugged: Linux's xenbus removes a device whose `device/KIND/N` node goes).
extension XenstoreServer {
    /// After `domid` is introduced: writes the nodes of each of `devices` it is an end of
    /// (frontend or backend) whose other end is introduced too. Returns them, in order.
    @discardableResult
    public func connectDevices(of domid: XenDomainID, _ devices: [XenDevice]) -> [XenDevice] {
        var connected: [XenDevice] = []
        for d in devices where d.frontendDomain == domid || d.backendDomain == domid {
            if addDevice(d) { connected.append(d) }
        }
        return connected
    }

    /// Before `domid` is released (it ended or reboots): removes the nodes of each of
    /// `devices` it is an end of that has any. As a frontend, its backends' directories go
    /// (netback/blkback close the device); as a backend, its frontends' `device/KIND/N`
    /// directories go (netfront/blkfront unplug it). Returns them, in order.
    @discardableResult
    public func disconnectDevices(of domid: XenDomainID, _ devices: [XenDevice]) -> [XenDevice] {
        var removed: [XenDevice] = []
        for d in devices where d.frontendDomain == domid || d.backendDomain == domid {
            if removeDevice(d) { removed.append(d) }
        }
        return removed
    }
}
