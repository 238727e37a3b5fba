/// One paravirtual device between two guests, as the system description gives it (xl.cfg's
/// `vif` and `disk` keys with `backend=NAME`): the frontend guest uses it with Linux's
/// netfront/blkfront, the backend guest (a driver domain) serves it with netback/blkback.
/// swiftvisor plays the toolstack's part: it writes both sides' xenstore nodes as `xl` does
/// (tools/libs/light/libxl_device.c, libxl_nic.c, libxl_disk.c of Xen 4.17).
public struct XenDevice: Equatable {
    public enum Kind: UInt8, Equatable {
        /// A network interface (frontend device/vif/N, backend backend/vif/DOMID/N).
        case vif = 1
        /// A block device (frontend device/vbd/N, backend backend/vbd/DOMID/N).
        case vbd = 2
    }

    public var kind: Kind
    /// Boot manifest index of the guest that uses the device (its domain is index + 1).
    public var frontend: Int
    /// Boot manifest index of the guest that serves it.
    public var backend: Int
    /// The device's number under device/vif or device/vbd: a vif's index among its guest's
    /// vifs (0, 1, ...); a vbd's virtual-device number (xvda = 51712: libxl_device.c's
    /// libxl__device_disk_dev_number).
    public var devid: UInt32
    /// vif: the MAC address (6 bytes).
    public var mac: [UInt8] = []
    /// vif: the bridge in the backend guest its interface joins (xl's default "xenbr0").
    public var bridge: String = ""
    /// vbd: the name the frontend is given ("xvda").
    public var vdev: String = ""
    /// vbd: what serves it inside the backend guest (a file or block device path there).
    public var target: String = ""
    /// vbd: `access=ro` (mode "r"); otherwise read-write (mode "w").
    public var readOnly: Bool = false

    public init(kind: Kind, frontend: Int, backend: Int, devid: UInt32) {
        self.kind = kind; self.frontend = frontend; self.backend = backend; self.devid = devid
    }

    public var frontendDomain: XenDomainID { XenDomainID(guestIndex: frontend) }
    public var backendDomain: XenDomainID { XenDomainID(guestIndex: backend) }
}
