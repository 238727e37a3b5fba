/// The toolstack's part for PV devices, as the privileged domain 0: a device's nodes written
/// as `xl` writes them (libxl__device_generic_add) and removed as `xl destroy` removes them
/// (libxl__initiate_device_generic_remove with force, then libxl__device_destroy).
extension XenstoreServer {
    /// Writes `device`'s frontend, backend and /libxl nodes, firing the frontend's `device`
    /// watch and the backend's `backend` watch. False, and nothing is written, unless both
    /// of its domains are introduced.
    @discardableResult
    public func addDevice(_ device: XenDevice) -> Bool {
        let f = device.frontendDomain.rawValue, b = device.backendDomain.rawValue
        guard f != b, isIntroduced(f), isIntroduced(b) else { return false }
        let paths = XenDeviceNodes(device)
        func s(_ text: StaticString) -> [UInt8] { XenstoreBytes.string(text) }
        func child(_ dir: [UInt8], _ key: [UInt8]) -> [UInt8] { dir + s("/") + key }
        // libxl: frontend_perms = n<F> r<B>; backend_perms and ro_frontend_perms = n<B> r<F>.
        let frontendPermissions: [XenstorePermission] = [.none(Int32(f)), .read(Int32(b))]
        let backendPermissions: [XenstorePermission] = [.none(Int32(b)), .read(Int32(f))]

        _ = request(.rm, paths.libxlPath + [0])
        write(child(paths.libxlPath, s("frontend")), value: paths.frontendPath)
        write(child(paths.libxlPath, s("backend")), value: paths.backendPath)

        _ = request(.rm, paths.frontendPath + [0])
        makeDirectory(paths.frontendPath, frontendPermissions)
        write(child(paths.frontendPath, s("backend")), value: paths.backendPath)
        for e in paths.front { write(child(paths.frontendPath, e.key), value: e.value, frontendPermissions) }
        for e in paths.readOnlyFront { write(child(paths.frontendPath, e.key), value: e.value, backendPermissions) }
        writeBackend(device, paths)
        return true
    }

    /// The backend and /libxl halves of `addDevice`.
    private func writeBackend(_ device: XenDevice, _ paths: XenDeviceNodes) {
        let f = device.frontendDomain.rawValue, b = device.backendDomain.rawValue
        func s(_ text: StaticString) -> [UInt8] { XenstoreBytes.string(text) }
        func child(_ dir: [UInt8], _ key: [UInt8]) -> [UInt8] { dir + s("/") + key }
        let backendPermissions: [XenstorePermission] = [.none(Int32(b)), .read(Int32(f))]
        _ = request(.rm, paths.backendPath + [0])
        makeDirectory(paths.backendPath, backendPermissions)
        write(child(paths.backendPath, s("frontend")), value: paths.frontendPath)
        for e in paths.back { write(child(paths.backendPath, e.key), value: e.value) }

        for e in paths.back { write(child(paths.libxlPath, e.key), value: e.value) }
        current = 0
    }

    /// A connected block device whose driver domain ended: only its backend and /libxl
    /// directories go; the frontend's `device/vbd/N` stays. Linux's blkfront cannot unplug a
    /// disk that is mounted (its remove waits for I/O that never completes: the guest's xenwatch
    /// thread hangs); left alone it ignores the backend's absence (XenbusStateUnknown) and, once
    /// the driver domain is back and `restoreBackend` wrote the backend again, blkback finds the
    /// frontend Connected, maps its ring (BACK_RING_ATTACH: requests made meanwhile are served)
    /// and blkfront carries on. True if parked.
    public func parkDevice(_ device: XenDevice) -> Bool {
        let paths = XenDeviceNodes(device)
        guard device.kind == .vbd, isIntroduced(device.frontendDomain.rawValue),
              nodes[paths.frontendPath + XenstoreBytes.string("/state")]?.value == XenstoreBytes.string("4") else { return false }
        _ = cleanUp(paths.backendPath)
        _ = cleanUp(paths.libxlPath)
        current = 0
        return true
    }

    /// Whether `device` is parked: its frontend directory is there without its backend's.
    public func isParked(_ device: XenDevice) -> Bool {
        let paths = XenDeviceNodes(device)
        return device.kind == .vbd && nodes[paths.frontendPath] != nil && nodes[paths.backendPath] == nil
    }

    /// A parked device's driver domain is back: its backend is written again, and the frontend's
    /// nodes name it as a reader again (the driver domain's release made those entries ignored).
    @discardableResult
    public func restoreBackend(_ device: XenDevice) -> Bool {
        let f = device.frontendDomain.rawValue, b = device.backendDomain.rawValue
        guard isParked(device), f != b, isIntroduced(f), isIntroduced(b) else { return false }
        let paths = XenDeviceNodes(device)
        let backend = Int32(b)
        for i in 0..<nodes.count {
            var (path, node) = nodes.entry(at: i)
            guard path == paths.frontendPath || path.starts(with: paths.frontendPath + [XenstorePath.slash]) else { continue }
            var changed = false
            for p in node.permissions.indices.dropFirst() where node.permissions[p].domid == backend && node.permissions[p].access.contains(.ignore) {
                node.permissions[p].access = XenstorePermission.Access(rawValue: node.permissions[p].access.rawValue & ~XenstorePermission.Access.ignore.rawValue)
                changed = true
            }
            if changed { nodes[path] = node }
        }
        writeBackend(device, paths)
        return true
    }

    /// Removes `device`'s nodes at once, as `xl destroy` does when the backend is gone or has
    /// no driver: the frontend directory first (the backend's watch on the frontend's `state`
    /// sees it go: XenbusStateUnknown), then the backend and /libxl directories, each with its
    /// parents left empty (libxl__xs_path_cleanup). True if any of them was there.
    @discardableResult
    public func removeDevice(_ device: XenDevice) -> Bool {
        let paths = XenDeviceNodes(device)
        var removed = false
        for path in [paths.frontendPath, paths.backendPath, paths.libxlPath] where cleanUp(path) { removed = true }
        current = 0
        return removed
    }

    /// The frontend went (xl destroy's libxl__initiate_device_generic_remove with force): its
    /// directory is removed, and the backend's gets `online` = 0 and `state` = 5 (Closing).
    /// Linux's backend sees its frontend go (XenbusStateUnknown), unregisters the device, and
    /// xenbus then writes `state` = 6 (Closed) because the toolstack forced Closing
    /// (xenbus_probe.c xenbus_dev_remove); `finishClosing` removes the rest once the backend has
    /// let go of the device. A backend directory that no driver took (state still 1, or nobody
    /// watches the frontend's state) is removed at once.
    /// True if the device is left closing; false if it is gone (or was not there).
    @discardableResult
    public func closeDevice(_ device: XenDevice) -> Bool {
        let paths = XenDeviceNodes(device)
        func s(_ text: StaticString) -> [UInt8] { XenstoreBytes.string(text) }
        let statePath = paths.backendPath + s("/state")
        guard let state = nodes[statePath]?.value, state != XenDeviceNodes.initialising,
              isWatching(device.backendDomain, paths.frontendPath + s("/state")) else {
            removeDevice(device)
            return false
        }
        _ = cleanUp(paths.frontendPath)
        write(paths.backendPath + s("/online"), value: s("0"))
        // A backend already Closed (the frontend closed it before it ended, as Linux does at
        // reboot) keeps its device until it sees the frontend go: its state stays 6.
        if state != s("6") { write(statePath, value: s("5")) }
        current = 0
        return true
    }

    /// Whether `domid` watches exactly `path`: Linux's xenbus watches the other end's `state`
    /// from probe (watch_otherend) until the device is removed (xenbus_dev_remove's
    /// free_otherend_watch, its first step, on the thread that handles every watch event).
    func isWatching(_ domid: XenDomainID, _ path: [UInt8]) -> Bool {
        guard let i = connectionIndex(UInt32(domid.rawValue)) else { return false }
        return connections[i].watches.contains { $0.path == path }
    }

    /// Whether `device` waits for its backend to close: its backend directory is there and
    /// its frontend directory is not.
    public func isClosing(_ device: XenDevice) -> Bool {
        let paths = XenDeviceNodes(device)
        return nodes[paths.backendPath] != nil && nodes[paths.frontendPath] == nil
    }

    /// A closing device is removed (libxl__device_destroy) once its backend stopped watching
    /// the frontend's `state`: its xenbus device is being removed, and any later change of the
    /// store reaches the backend's watch thread after that removal. Waiting for the backend's
    /// `state = 6` is not enough: a backend the frontend closed before it ended is at 6 with its
    /// device alive, and written again then, the device would be kept and reused without what its
    /// probe writes (blkback: "changing physical device ... not supported"). True if removed.
    @discardableResult
    public func finishClosing(_ device: XenDevice) -> Bool {
        guard isClosing(device) else { return false }
        let paths = XenDeviceNodes(device)
        guard !isWatching(device.backendDomain, paths.frontendPath + XenstoreBytes.string("/state")) else { return false }
        return removeDevice(device)
    }

    /// Whether any of `device`'s nodes is in the store.
    public func hasDevice(_ device: XenDevice) -> Bool {
        let paths = XenDeviceNodes(device)
        return nodeExists(paths.frontendPath) || nodeExists(paths.backendPath) || nodeExists(paths.libxlPath)
    }

    private func nodeExists(_ path: [UInt8]) -> Bool {
        nodes[path] != nil
    }

    /// libxl__xs_mknod: an empty node with these permissions.
    private func makeDirectory(_ path: [UInt8], _ permissions: [XenstorePermission]) {
        _ = request(.mkdir, path + [0])
        _ = request(.setPerms, path + [0] + permissions.wireBytes)
    }

    /// libxl__xs_writev_perms for one key: the write, then its permissions.
    private func write(_ path: [UInt8], value: [UInt8], _ permissions: [XenstorePermission]) {
        write(path, value: value)
        _ = request(.setPerms, path + [0] + permissions.wireBytes)
    }

    /// libxl__xs_path_cleanup: removes `path`, then each parent whose value is empty and that
    /// has no children left. False if `path` was not there.
    private func cleanUp(_ path: [UInt8]) -> Bool {
        guard nodeExists(path) else { return false }
        _ = request(.rm, path + [0])
        var parent = XenstorePath.parent(path)
        while parent != XenstorePath.root, let node = nodes[parent],
              node.value.isEmpty, node.children.isEmpty {
            _ = request(.rm, parent + [0])
            parent = XenstorePath.parent(parent)
        }
        return true
    }
}
