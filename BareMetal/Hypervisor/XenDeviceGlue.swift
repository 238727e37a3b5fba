import SwiftvisorCore

/// swiftvisor as the toolstack for the PV devices between guests (`hv.devices`): a device's
/// xenstore nodes are written when both its guests are introduced to the store and removed
/// when either ends, so that Linux's netfront/blkfront and netback/blkback see it plugged and
/// unplugged (XenstoreServer+DeviceLifecycle.swift). Grants and event channels are torn down
/// elsewhere (Hypervisor.releaseGrants, XenGuest.tearDown). Runs with the hypervisor lock held.
enum XenDeviceGlue {
    /// Some device waits for its backend to close (a frontend ended): `settle` runs after
    /// each guest's store requests until none does.
    nonisolated(unsafe) static var closing = false

    /// After `vm` is introduced (each boot), and again at its first store request: its devices
    /// whose other end is introduced, as a frontend and as a backend, get their nodes once their
    /// backend has talked to the store since it booted; the other ends' watches fire.
    static func connect(_ vm: VirtualMachine) {
        guard let hv = hypervisor, !hv.devices.isEmpty else { return }
        // A driver domain in its first boot: no frontend can still hold an old device of it, and the
        // frontends find their devices at once (Linux's /init looks for them). After a reboot: once it
        // talked to the store.
        let ready: (XenDomainID) -> Bool = { id in
            guard let b = id == vm.domid ? vm : hv.vm(id) else { return false }
            return b.boots <= 1 || b.xen.storeConnected
        }
        for d in XenstoreGlue.server.connectDevices(of: vm.domid, hv.devices, backendReady: ready) { report(d, vm, hv, endedName: nil) }
        XenstoreGlue.serveAwaiting(hv)
    }

    /// Before `vm` is released (it ended, or reboots): its devices' nodes go, on both sides.
    /// The caller serves the other guests' rings afterwards.
    static func disconnect(_ vm: VirtualMachine, _ hv: Hypervisor) {
        guard !hv.devices.isEmpty else { return }
        for d in XenstoreGlue.server.disconnectDevices(of: vm.domid, hv.devices) { report(d, vm, hv, endedName: vm.name) }
        closing = XenstoreGlue.server.hasClosingDevices(hv.devices)
    }

    /// After a guest's store requests, while `closing`: devices whose backend has closed are
    /// removed, and written again for a frontend that is back (it rebooted meanwhile).
    static func settle(_ hv: Hypervisor) {
        for d in XenstoreGlue.server.settleDevices(hv.devices) { report(d, nil, hv, endedName: nil) }
        closing = XenstoreGlue.server.hasClosingDevices(hv.devices)
    }

    /// "swiftvisor: vif beta/0 -> backend alpha" when connected; then ": torn down, 'beta' ended".
    private static func report(_ d: XenDevice, _ vm: VirtualMachine?, _ hv: Hypervisor, endedName: String?) {
        Console.log(d.kind == .vif ? "vif " : "vbd ")
        writeName(d.frontendDomain, vm, hv)
        Console.write("/")
        if d.kind == .vbd && !d.vdev.isEmpty { Console.write(d.vdev) } else { Console.decimal(UInt64(d.devid)) }
        Console.write(" -> backend ")
        writeName(d.backendDomain, vm, hv)
        if let endedName {
            // A parked disk (XenstoreServer.parkDevice) stays in its frontend for the driver domain's return.
            Console.write(XenstoreGlue.server.isParked(d) ? ": backend gone, '" : ": torn down, '")
            Console.write(endedName)
            Console.write(XenstoreGlue.server.isParked(d) ? "' ended; the disk stays in its frontend until it is back" : "' ended")
        }
        Console.write("\n")
    }

    /// A guest's name; `vm` may not be in `hv.vms` yet (its first boot).
    private static func writeName(_ domid: XenDomainID, _ vm: VirtualMachine?, _ hv: Hypervisor) {
        if let vm, vm.domid == domid { Console.write(vm.name) } else if let other = hv.vm(domid) { Console.write(other.name) } else {
            Console.write("domain "); Console.decimal(UInt64(domid.rawValue))
        }
    }
}
