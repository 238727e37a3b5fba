import XCTest
@testable import SwiftvisorCore

/// Issue 10 §1: xl.cfg's `vif` and `disk` strings, the numbers libxl gives, and the devices the
/// boot manifest carries.
final class DeviceSpecTests: XCTestCase {
    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as DeviceSpecError { return e.message } catch { return "\(error)" }
    }

    // MARK: vdev -> virtual-device number (libxl__device_disk_dev_number)

    func test_xvd_names_get_libxls_virtual_device_numbers() {
        let extended: UInt32 = 1 << 28
        let numbers: [(String, UInt32)] = [("xvda", 51712), ("xvdb", 51728), ("xvdp", 51952), ("xvdq", extended | 16 << 8),
                                           ("xvdz", extended | 25 << 8), ("xvdaa", extended | 26 << 8),
                                           ("xvdab", extended | 27 << 8), ("xvdba", extended | 52 << 8)]
        for (name, number) in numbers {
            XCTAssertEqual(VirtualDiskName(name)?.deviceNumber, number, name)
        }
        XCTAssertEqual(VirtualDiskName("xvdaa")?.index, 26)
        for bad in ["xvd", "hda", "sda", "xvda1", "xvdA", "xvda ", "xvdzzzzz"] { XCTAssertNil(VirtualDiskName(bad), bad) }
    }

    // MARK: vif

    func test_a_vif_string_is_read_as_xl_reads_it() throws {
        let v = try VirtualInterfaceSpec(parsing: " backend=net ,mac=00:16:3E:0a:0b:0c,  bridge = br-lan, type=vif")
        XCTAssertEqual(v, VirtualInterfaceSpec(backend: "net", mac: MACAddress(bytes: [0, 0x16, 0x3e, 0x0a, 0x0b, 0x0c]), bridge: "br-lan"))
        XCTAssertEqual(try VirtualInterfaceSpec(parsing: "backend=net").bridge, "xenbr0")
        XCTAssertNil(try VirtualInterfaceSpec(parsing: "backend=net,").mac)
    }

    func test_vif_errors_name_the_key() {
        XCTAssertEqual(message { _ = try VirtualInterfaceSpec(parsing: "bridge=xenbr0") },
                       "backend=NAME is required: swiftvisor has no dom0, so another guest must serve the interface")
        XCTAssertEqual(message { _ = try VirtualInterfaceSpec(parsing: "backend=net, script=vif-nat") },
                       "swiftvisor does not support the vif key 'script': it takes backend, mac, bridge and type=vif")
        XCTAssertEqual(message { _ = try VirtualInterfaceSpec(parsing: "backend=net, mac=00:16:3e:0:1:2") },
                       "mac '00:16:3e:0:1:2' is not a MAC address: write six hexadecimal bytes as XX:XX:XX:XX:XX:XX")
        XCTAssertEqual(message { _ = try VirtualInterfaceSpec(parsing: "backend=net, bridge=a-very-long-bridge") },
                       "bridge 'a-very-long-bridge' must be 1 to 15 bytes long (a Linux interface name; it is 18)")
        XCTAssertEqual(message { _ = try VirtualInterfaceSpec(parsing: "backend=net, bridge=br:0") },
                       "bridge 'br:0' may not contain '/', ':' or white space (a Linux interface name)")
        XCTAssertEqual(message { _ = try VirtualInterfaceSpec(parsing: "backend=net, type=ioemu") },
                       "type 'ioemu' is not supported: swiftvisor gives only PV interfaces (type=vif)")
        XCTAssertEqual(message { _ = try VirtualInterfaceSpec(parsing: "backend=a, backend=b") }, "'backend' is given twice")
        XCTAssertEqual(message { _ = try VirtualInterfaceSpec(parsing: "backend=net, colour=blue") },
                       "'colour' is not a vif key: write \"backend=NAME, mac=00:16:3e:xx:xx:xx, bridge=xenbr0\"")
    }

    func test_a_derived_mac_is_xens_prefix_and_stable() {
        let a0 = VirtualInterfaceSpec.derivedMAC(guest: "web", index: 0)
        XCTAssertEqual(Array(a0.bytes.prefix(3)), [0x00, 0x16, 0x3e])
        XCTAssertEqual(a0.bytes[3] & 0x80, 0)
        XCTAssertEqual(a0, VirtualInterfaceSpec.derivedMAC(guest: "web", index: 0))
        XCTAssertNotEqual(a0, VirtualInterfaceSpec.derivedMAC(guest: "web", index: 1))
        XCTAssertNotEqual(a0, VirtualInterfaceSpec.derivedMAC(guest: "db", index: 0))
        // FNV-1a 32 of "web/0" is 0x01bd0f1e (byte 3's top bit cleared: 0xbd -> 0x3d).
        XCTAssertEqual(a0.text, "00:16:3e:3d:0f:1e")
    }

    // MARK: disk

    func test_a_disk_string_is_read_as_xl_reads_it() throws {
        let d = try VirtualDiskSpec(parsing: "backend=store, vdev=xvdb, access=ro, format=raw, devtype=disk, target=/srv/a, b.img ")
        XCTAssertEqual(d, VirtualDiskSpec(backend: "store", vdev: VirtualDiskName("xvdb")!, target: "/srv/a, b.img", readOnly: true))
        XCTAssertEqual(try VirtualDiskSpec(parsing: "vdev=xvda,backend=s,target=/dev/vdb").readOnly, false)
        XCTAssertEqual(try VirtualDiskSpec(parsing: "vdev=xvda,backend=s,access=w,target=x=y").target, "x=y")
    }

    func test_disk_errors_name_the_key() {
        let example = "backend=NAME, vdev=xvda, access=rw, target=/PATH/IN/BACKEND"
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "phy:/dev/vdb,xvda,w") },
                       "'phy:/dev/vdb' is not key=value: swiftvisor reads only xl's key=value form, e.g. \"\(example)\"")
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "backend=s, vdev=hda, target=/x") },
                       "vdev 'hda' is not a name swiftvisor gives: only Xen PV names of whole disks, xvda to xvdz, xvdaa, ... (no hdX, sdX or partitions)")
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "backend=s, target=/x") },
                       "vdev=xvdX is required: the name the guest sees, e.g. vdev=xvda")
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "backend=s, vdev=xvda") },
                       "target=PATH is required, last: the file or block device inside guest 's'")
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "vdev=xvda, target=/x") },
                       "backend=NAME is required: swiftvisor has no dom0, so another guest must serve the disk")
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "backend=s, vdev=xvda, access=rx, target=/x") },
                       "access 'rx' is not rw, ro, w or r")
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "backend=s, vdev=xvda, format=qcow2, target=/x") },
                       "format 'qcow2' is not supported: blkback serves only raw images (format=raw)")
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "backend=s, vdev=xvda, script=block-iscsi, target=/x") },
                       "swiftvisor does not support the disk key 'script': it takes backend, vdev, access, format=raw, devtype=disk and target (last)")
        XCTAssertEqual(message { _ = try VirtualDiskSpec(parsing: "backend=s, vdev=xvda, cdrom, target=/x") },
                       "swiftvisor does not support the disk key 'cdrom': it takes backend, vdev, access, format=raw, devtype=disk and target (last)")
    }

    // MARK: the boot manifest

    func test_devices_round_trip_through_the_manifest() throws {
        let guests = ["net", "web", "db"].map {
            BootManifest.Guest(name: $0, kernel: .init(base: HostPhysicalAddress(0x5020_0000), size: 64), memoryBytes: 16 << 20,
                               vcpus: 1, commandLine: "")
        }
        var vif = XenDevice(kind: .vif, frontend: 1, backend: 0, devid: 0)
        vif.mac = [0x00, 0x16, 0x3e, 1, 2, 3]; vif.bridge = "xenbr0"
        var vbd = XenDevice(kind: .vbd, frontend: 2, backend: 0, devid: 51712)
        vbd.vdev = "xvda"; vbd.target = String(repeating: "t", count: Limits.diskTargetLength); vbd.readOnly = true
        let m = BootManifest(guests: guests, devices: [vif, vbd])
        var bytes = m.encoded
        XCTAssertEqual(bytes.count, 16 + 3 * 1024 + 2 * 256)
        XCTAssertEqual(Array(bytes[0..<8]), Array("SVMANIF4".utf8))
        try bytes.withUnsafeBytes { b in
            XCTAssertEqual(BootManifest.size(header: b), bytes.count)
            XCTAssertEqual(try BootManifest(bytes: b), m)
        }
        // The size from the header covers the devices: a manifest cut short is refused.
        XCTAssertThrowsError(try bytes.dropLast().withUnsafeBytes { try BootManifest(bytes: $0) }) {
            XCTAssertEqual($0 as? BootManifest.ParseError, .truncated)
        }
        // A device entry naming a guest that is not there, or of no known kind, is refused.
        let second = 16 + 3 * 1024 + 256
        bytes[second + 8] = 3
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try BootManifest(bytes: $0) }) {
            XCTAssertEqual($0 as? BootManifest.ParseError, .badDevice(index: 1))
        }
        bytes[second + 8] = 0; bytes[second] = 9
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try BootManifest(bytes: $0) }) {
            XCTAssertEqual($0 as? BootManifest.ParseError, .badDevice(index: 1))
        }
        bytes[second] = 2; bytes[second + 255] = 0x41   // the target without its NUL
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try BootManifest(bytes: $0) }) {
            XCTAssertEqual($0 as? BootManifest.ParseError, .badDevice(index: 1))
        }
        let tooMany = BootManifest(guests: guests, devices: Array(repeating: vif, count: Limits.devices + 1)).encoded
        XCTAssertThrowsError(try tooMany.withUnsafeBytes { try BootManifest(bytes: $0) }) {
            XCTAssertEqual($0 as? BootManifest.ParseError, .tooManyDevices(count: Limits.devices + 1))
        }
    }

    func test_the_description_gives_the_manifest_its_devices() throws {
        var net = SystemDescription.Guest(name: "net", kernel: "k", memoryMiB: 16)
        var web = SystemDescription.Guest(name: "web", kernel: "k", memoryMiB: 16)
        net.vifs = []
        web.vifs = [try VirtualInterfaceSpec(parsing: "backend=net"),
                    try VirtualInterfaceSpec(parsing: "backend=net, mac=00:16:3e:00:00:01, bridge=br1")]
        web.disks = [try VirtualDiskSpec(parsing: "backend=net, vdev=xvdb, access=ro, target=/srv/web.img")]
        let d = SystemDescription(guests: [net, web])
        XCTAssertEqual(d.problems(), [])
        let devices = d.xenDevices
        XCTAssertEqual(devices.map(\.kind), [.vif, .vif, .vbd])
        XCTAssertEqual(devices.map(\.frontend), [1, 1, 1])
        XCTAssertEqual(devices.map(\.backend), [0, 0, 0])
        XCTAssertEqual(devices.map(\.devid), [0, 1, 51728])
        XCTAssertEqual(devices[0].mac, VirtualInterfaceSpec.derivedMAC(guest: "web", index: 0).bytes)
        XCTAssertEqual(devices[1].mac, [0, 0x16, 0x3e, 0, 0, 1])
        XCTAssertEqual(devices.map(\.bridge), ["xenbr0", "br1", ""])
        XCTAssertEqual(devices[2].vdev, "xvdb")
        XCTAssertEqual(devices[2].target, "/srv/web.img")
        XCTAssertEqual(devices[2].readOnly, true)
        XCTAssertEqual(devices[0].frontendDomain, XenDomainID(guestIndex: 1))
    }
}
