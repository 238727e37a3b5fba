/// What `xl` writes in the store for one PV device between a domU and a driver domain (Xen
/// 4.17's libxl__device_add_async and libxl__device_generic_add in libxl_device.c, with
/// libxl__set_xenstore_nic of libxl_nic.c and libxl__device_disk_add of libxl_disk.c): its
/// three paths and the keys written below each, in libxl's order.
public struct XenDeviceNodes {
    public typealias Entry = (key: [UInt8], value: [UInt8])

    /// The frontend's directory, `/local/domain/F/device/KIND/DEVID`
    /// (libxl__device_frontend_path): owned by F, readable by the backend.
    public var frontendPath: [UInt8]
    /// The backend's directory, `/local/domain/B/backend/KIND/F/DEVID`
    /// (libxl__device_backend_path): owned by B, readable by the frontend.
    public var backendPath: [UInt8]
    /// The toolstack's copy, `/libxl/F/device/KIND/DEVID` (libxl__device_libxl_path): domain 0's only.
    public var libxlPath: [UInt8]
    /// Keys of the backend directory after `frontend` (libxl's `back` array).
    public var back: [Entry] = []
    /// Keys of the frontend directory after `backend` (libxl's `front` array).
    public var front: [Entry] = []
    /// Keys of the frontend directory the frontend may only read (libxl's `ro_front`: a vif's
    /// mtu), owned by the backend.
    public var readOnlyFront: [Entry] = []

    /// libxl_nic.c's defaults: LIBXL_DEVICE_NIC_MTU_DEFAULT, the bridge, the scripts' directory.
    public static let defaultMTU: UInt64 = 1500
    public static let defaultBridge = XenstoreBytes.string("xenbr0")
    /// XenbusStateInitialising (xen/include/public/io/xenbus.h), the state both ends start in.
    static let initialising = XenstoreBytes.string("1")

    public init(_ device: XenDevice) {
        func s(_ text: StaticString) -> [UInt8] { XenstoreBytes.string(text) }
        let f = UInt32(device.frontendDomain.rawValue), b = UInt32(device.backendDomain.rawValue)
        let kind = device.kind == .vif ? s("vif") : s("vbd")
        let devid = XenstoreBytes.decimal(UInt64(device.devid))
        frontendPath = XenstorePath.domainPath(f) + s("/device/") + kind + s("/") + devid
        backendPath = XenstorePath.domainPath(b) + s("/backend/") + kind + s("/") + XenstoreBytes.decimal(UInt64(f)) + s("/") + devid
        libxlPath = s("/libxl/") + XenstoreBytes.decimal(UInt64(f)) + s("/device/") + kind + s("/") + devid

        let frontendID = XenstoreBytes.decimal(UInt64(f)), backendID = XenstoreBytes.decimal(UInt64(b))
        switch device.kind {
        case .vif:
            let mac = XenDeviceNodes.macText(device.mac)
            // libxl__device_add_async's common keys, then libxl__set_xenstore_nic's.
            back = [(s("frontend-id"), frontendID), (s("online"), s("1")), (s("state"), XenDeviceNodes.initialising),
                    (s("script"), s("/etc/xen/scripts/vif-bridge")),
                    (s("mac"), mac),
                    (s("bridge"), device.bridge.isEmpty ? XenDeviceNodes.defaultBridge : Array(device.bridge.utf8)),
                    (s("handle"), devid), (s("type"), s("vif")),
                    // libxl writes "" (netback waits for it), and vif-bridge's success() "connected"
                    // once the interface is in the bridge; with no dom0 scripts, it is written at once
                    // (the backend guest's own scripts add the interface to its bridge).
                    (s("hotplug-status"), s("connected"))]
            front = [(s("backend-id"), backendID), (s("state"), XenDeviceNodes.initialising),
                     (s("handle"), devid), (s("mac"), mac), (s("trusted"), s("1"))]
            readOnlyFront = [(s("mtu"), XenstoreBytes.decimal(XenDeviceNodes.defaultMTU))]
        case .vbd:
            // A target inside a driver domain is always "phy" (xl cannot look at it); its `block`
            // script, run there, writes physical-device and hotplug-status.
            back = [(s("params"), Array(device.target.utf8)), (s("script"), s("/etc/xen/scripts/block")),
                    (s("frontend-id"), frontendID), (s("online"), s("1")),
                    (s("removable"), s("0")), (s("bootable"), s("1")), (s("state"), XenDeviceNodes.initialising),
                    (s("dev"), Array(device.vdev.utf8)), (s("type"), s("phy")),
                    (s("mode"), device.readOnly ? s("r") : s("w")), (s("device-type"), s("disk")),
                    // libxl__device_disk_setdefault: discard_enable defaults to readwrite.
                    (s("discard-enable"), device.readOnly ? s("0") : s("1")),
                    (s("specification"), s("xen"))]
            front = [(s("backend-id"), backendID), (s("state"), XenDeviceNodes.initialising),
                     (s("virtual-device"), devid), (s("device-type"), s("disk")), (s("trusted"), s("1"))]
        }
    }

    /// LIBXL_MAC_FMT: "%02hhx:%02hhx:%02hhx:%02hhx:%02hhx:%02hhx".
    static func macText(_ mac: [UInt8]) -> [UInt8] {
        let hex = XenstoreBytes.string("0123456789abcdef")
        var out: [UInt8] = []
        for (i, byte) in mac.enumerated() {
            if i > 0 { out.append(0x3A) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return out
    }
}
