/// One xl.cfg `disk` entry: a block device served by another guest (a driver domain) from a
/// file or block device inside it, e.g. "backend=store, vdev=xvda, access=rw, target=/srv/a.img"
/// (xl-disk-configuration.5). Only the key=value form; `target=` comes last, as in xl, and
/// everything after it is the path.
public struct VirtualDiskSpec: Equatable {
    /// The guest that serves it (xl's `backend=`, a domain name).
    public var backend: String
    /// The name the frontend is given.
    public var vdev: VirtualDiskName
    /// The file or block device inside the backend guest.
    public var target: String
    /// `access=ro` or `r`; xl's default is read-write.
    public var readOnly = false

    static let example = "backend=NAME, vdev=xvda, access=rw, target=/PATH/IN/BACKEND"
    /// xl keys for a dom0's scripts, QEMU or CD-ROMs, which swiftvisor does not have.
    static let unsupported = ["script", "backendtype", "cdrom", "discard", "no-discard",
                              "direct-io-safe", "colo", "colo-host", "colo-port", "colo-export", "active-disk",
                              "hidden-disk", "trusted", "untrusted", "specification", "transport"]

    public init(backend: String, vdev: VirtualDiskName, target: String, readOnly: Bool = false) {
        self.backend = backend; self.vdev = vdev; self.target = target; self.readOnly = readOnly
    }

    /// Parses xl's `disk` string; the error says which key is wrong and why.
    public init(parsing text: String) throws(DeviceSpecError) {
        let s = try XLDeviceString(text, kind: "a disk", example: Self.example, restKey: "target", flags: Self.unsupported)
        var backend: String?, vdev: VirtualDiskName?, target: String?
        for (key, value) in s.items {
            switch key {
            case "backend": backend = value
            case "vdev":
                guard let v = VirtualDiskName(value) else {
                    throw DeviceSpecError("vdev '\(value)' is not a name swiftvisor gives: only Xen PV names of whole disks, xvda to xvdz, xvdaa, ... (no hdX, sdX or partitions)")
                }
                vdev = v
            case "target": target = value
            case "access":
                switch value {
                case "rw", "w": readOnly = false
                case "ro", "r": readOnly = true
                default: throw DeviceSpecError("access '\(value)' is not rw, ro, w or r")
                }
            case "format":
                // blkback serves the bytes as they are: no qcow or vhd (those need qdisk in dom0).
                guard value == "raw" else { throw DeviceSpecError("format '\(value)' is not supported: blkback serves only raw images (format=raw)") }
            case "devtype":
                guard value == "disk" else { throw DeviceSpecError("devtype '\(value)' is not supported: swiftvisor gives only disks (devtype=disk)") }
            default:
                if Self.unsupported.contains(key) {
                    throw DeviceSpecError("swiftvisor does not support the disk key '\(key)': it takes backend, vdev, access, format=raw, devtype=disk and target (last)")
                }
                throw DeviceSpecError("'\(key)' is not a disk key: write \"\(Self.example)\"")
            }
        }
        guard let backend, !backend.isEmpty else {
            throw DeviceSpecError("backend=NAME is required: swiftvisor has no dom0, so another guest must serve the disk")
        }
        guard let vdev else { throw DeviceSpecError("vdev=xvdX is required: the name the guest sees, e.g. vdev=xvda") }
        guard let target, !target.isEmpty else {
            throw DeviceSpecError("target=PATH is required, last: the file or block device inside guest '\(backend)'")
        }
        self.backend = backend; self.vdev = vdev; self.target = target
    }
}

/// A Xen PV disk name, "xvd" and letters: xvda..xvdz, then xvdaa.. (letters read as bijective
/// base 26, xvda = disk 0, xvdaa = disk 26), as libxl's device_virtdisk_matches reads them.
public struct VirtualDiskName: Equatable {
    public var name: String
    /// The disk number: 0 for xvda.
    public var index: Int

    /// libxl allows disks up to 2^20 - 1.
    static let maximumIndex = 1 << 20 - 1

    public init?(_ name: String) {
        let b = Array(name.utf8)
        guard b.count > 3, b[0] == UInt8(ascii: "x"), b[1] == UInt8(ascii: "v"), b[2] == UInt8(ascii: "d") else { return nil }
        var index = -1
        for c in b[3...] {
            guard c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") else { return nil }
            index = (index + 1) * 26 + Int(c - UInt8(ascii: "a"))
            guard index <= Self.maximumIndex else { return nil }
        }
        self.name = name; self.index = index
    }

    /// The virtual-device number under device/vbd (libxl_device.c,
    /// libxl__device_disk_dev_number for a whole xvd disk): (202 << 8) | (disk << 4) below 16
    /// disks (XEN_XVD major 202, 16 minors per disk), else the extended form (1 << 28) | (disk << 8).
    public var deviceNumber: UInt32 {
        index < 16 ? UInt32(202 << 8 | index << 4) : UInt32(1 << 28 | index << 8)
    }
}
