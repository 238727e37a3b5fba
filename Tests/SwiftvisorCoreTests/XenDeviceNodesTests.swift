import XCTest
@testable import SwiftvisorCore

/// swiftvisor as the toolstack: a PV device's xenstore nodes as `xl` writes them for a domU
/// whose backend is a driver domain (Xen 4.17's libxl_device.c, libxl_nic.c, libxl_disk.c),
/// seen by the guests through their rings, and their removal when either end goes.
final class XenDeviceNodesTests: XCTestCase {
    var server = XenstoreServer()
    /// Domain 1 serves (the driver domain), domain 2 uses the devices, domain 3 is a bystander.
    var backend: XenstoreGuest!
    var frontend: XenstoreGuest!
    var third: XenstoreGuest!

    let vif: XenDevice = {
        var d = XenDevice(kind: .vif, frontend: 1, backend: 0, devid: 0)
        d.mac = [0x00, 0x16, 0x3E, 0x0A, 0xBC, 0x01]
        return d
    }()
    let vbd: XenDevice = {
        var d = XenDevice(kind: .vbd, frontend: 1, backend: 0, devid: 51712)
        d.vdev = "xvda"
        d.target = "/srv/beta.img"
        return d
    }()

    override func setUp() {
        server = XenstoreServer()
        for d: UInt16 in 1...3 { server.introduceGuest(d) }
        backend = XenstoreGuest(server, domid: 1)
        frontend = XenstoreGuest(server, domid: 2)
        third = XenstoreGuest(server, domid: 3)
    }

    func values(_ guest: XenstoreGuest, _ dir: String) -> [String: String] {
        var out: [String: String] = [:]
        for key in guest.call(.directory, [dir]).strings { out[key] = guest.read(dir + "/" + key).text }
        return out
    }

    // MARK: What is written

    func test_a_vif_has_the_nodes_xl_writes() {
        XCTAssertTrue(server.addDevice(vif))
        let fe = "/local/domain/2/device/vif/0", be = "/local/domain/1/backend/vif/2/0"
        XCTAssertEqual(frontend.call(.directory, [fe]).strings, ["backend", "backend-id", "state", "handle", "mac", "trusted", "mtu"])
        XCTAssertEqual(values(frontend, fe), ["backend": be, "backend-id": "1", "state": "1", "handle": "0",
                                              "mac": "00:16:3e:0a:bc:01", "trusted": "1", "mtu": "1500"])
        XCTAssertEqual(backend.call(.directory, [be]).strings,
                       ["frontend", "frontend-id", "online", "state", "script", "mac", "bridge", "handle", "type", "hotplug-status"])
        XCTAssertEqual(values(backend, be), ["frontend": fe, "frontend-id": "2", "online": "1", "state": "1",
                                             "script": "/etc/xen/scripts/vif-bridge", "mac": "00:16:3e:0a:bc:01",
                                             "bridge": "xenbr0", "handle": "0", "type": "vif", "hotplug-status": "connected"])
        // The toolstack's own copy, which no guest reads.
        XCTAssertEqual(server.text("/libxl/2/device/vif/0/frontend"), fe)
        XCTAssertEqual(server.text("/libxl/2/device/vif/0/backend"), be)
        XCTAssertEqual(server.text("/libxl/2/device/vif/0/bridge"), "xenbr0")
        assertError(frontend.read("/libxl/2/device/vif/0/backend"), "EACCES")
    }

    func test_a_vbd_has_the_nodes_xl_writes() {
        var ro = vbd
        ro.devid = 51728; ro.vdev = "xvdb"; ro.target = "/dev/vdb"; ro.readOnly = true
        XCTAssertTrue(server.addDevice(vbd))
        XCTAssertTrue(server.addDevice(ro))
        let fe = "/local/domain/2/device/vbd/51712", be = "/local/domain/1/backend/vbd/2/51712"
        XCTAssertEqual(values(frontend, fe), ["backend": be, "backend-id": "1", "state": "1", "virtual-device": "51712",
                                              "device-type": "disk", "trusted": "1"])
        XCTAssertEqual(backend.call(.directory, [be]).strings,
                       ["frontend", "params", "script", "frontend-id", "online", "removable", "bootable", "state", "dev",
                        "type", "mode", "device-type", "discard-enable", "specification"])
        XCTAssertEqual(values(backend, be), ["frontend": fe, "params": "/srv/beta.img", "script": "/etc/xen/scripts/block",
                                             "frontend-id": "2", "online": "1", "removable": "0", "bootable": "1", "state": "1",
                                             "dev": "xvda", "type": "phy", "mode": "w", "device-type": "disk",
                                             "discard-enable": "1", "specification": "xen"])
        XCTAssertEqual(backend.read("/local/domain/1/backend/vbd/2/51728/mode").text, "r")
        XCTAssertEqual(backend.read("/local/domain/1/backend/vbd/2/51728/discard-enable").text, "0")
        XCTAssertEqual(backend.read("/local/domain/1/backend/vbd/2/51728/params").text, "/dev/vdb")
        XCTAssertEqual(frontend.call(.directory, ["device/vbd"]).strings, ["51712", "51728"])
    }

    // MARK: Who may do what

    func test_permissions_are_libxls() {
        server.addDevice(vif)
        server.addDevice(vbd)
        let fe = "/local/domain/2/device/vif/0", be = "/local/domain/1/backend/vif/2/0"
        XCTAssertEqual(frontend.call(.getPerms, [fe]).strings, ["n2", "r1"])
        XCTAssertEqual(frontend.call(.getPerms, [fe + "/state"]).strings, ["n2", "r1"])
        XCTAssertEqual(frontend.call(.getPerms, [fe + "/backend"]).strings, ["n2", "r1"])
        // ro_front: the mtu is the backend's, the frontend may only read it.
        XCTAssertEqual(frontend.call(.getPerms, [fe + "/mtu"]).strings, ["n1", "r2"])
        assertError(frontend.write(fe + "/mtu", "9000"), "EACCES")
        XCTAssertEqual(backend.call(.getPerms, [be]).strings, ["n1", "r2"])
        XCTAssertEqual(backend.call(.getPerms, [be + "/hotplug-status"]).strings, ["n1", "r2"])

        // Each end writes its own directory, and only reads the other's.
        assertOK(frontend.write(fe + "/state", "4"))
        assertOK(frontend.write(fe + "/tx-ring-ref", "8"))
        XCTAssertEqual(backend.read(fe + "/tx-ring-ref").text, "8")
        assertError(backend.write(fe + "/state", "6"), "EACCES")
        assertOK(backend.write(be + "/state", "2"))
        assertOK(backend.write(be + "/feature-sg", "1"))
        XCTAssertEqual(frontend.read(be + "/state").text, "2")
        assertError(frontend.write(be + "/state", "6"), "EACCES")
        assertError(frontend.write(be + "/online", "0"), "EACCES")
        // blkback's hotplug script, in the driver domain, writes physical-device; the frontend cannot.
        let vbdBackend = "/local/domain/1/backend/vbd/2/51712"
        assertOK(backend.write(vbdBackend + "/physical-device", "7:0"))
        assertOK(backend.write(vbdBackend + "/hotplug-status", "connected"))
        assertError(frontend.write(vbdBackend + "/physical-device", "8:0"), "EACCES")
        // netback removes hotplug-status once it is connected (xen-netback's netback_remove).
        assertOK(backend.call(.rm, [be + "/hotplug-status"]))
    }

    func test_the_frontend_sees_nothing_else_of_the_driver_domain_and_a_third_guest_sees_nothing() {
        var other = vif
        other.frontend = 2      // domain 3's vif, on the same driver domain
        server.addDevice(vif)
        server.addDevice(other)
        assertError(frontend.call(.directory, ["/local/domain/1/backend/vif"]), "EACCES")
        assertError(frontend.call(.directory, ["/local/domain/1/backend/vif/2"]), "EACCES")
        assertError(frontend.read("/local/domain/1/backend/vif/3/0/mac"), "EACCES")
        XCTAssertEqual(backend.call(.directory, ["/local/domain/1/backend/vif"]).strings, ["2", "3"])
        for path in ["/local/domain/2/device/vif/0/mac", "/local/domain/1/backend/vif/2/0/mac", "/local/domain/2/device/vif",
                     "/local/domain/1/backend/vif/2/0"] {
            assertError(third.read(path), "EACCES")
        }
        assertError(third.write("/local/domain/1/backend/vif/2/0/state", "4"), "EACCES")
        // The backend reads its frontend's directory but not the rest of the frontend's domain.
        assertError(backend.call(.directory, ["/local/domain/2/device/vif"]), "EACCES")
        assertError(backend.read("/local/domain/2/name"), "EACCES")
    }

    // MARK: Watches

    func test_the_backends_backend_watch_and_the_frontends_device_watch_fire() {
        // xenbus_probe_backend.c watches "backend", xenbus_probe_frontend.c "device".
        assertOK(backend.call(.watch, ["backend", "be"]))
        assertOK(frontend.call(.watch, ["device", "fe"]))
        assertOK(third.call(.watch, ["/local/domain", "all"]))
        backend.events = []; frontend.events = []; third.events = []
        server.addDevice(vif)
        backend.service(); frontend.service(); third.service()
        XCTAssertTrue(backend.events.contains(["backend/vif/2/0", "be"]))
        XCTAssertTrue(backend.events.contains(["backend/vif/2/0/hotplug-status", "be"]))
        XCTAssertTrue(backend.events.allSatisfy { $0[0].hasPrefix("backend") && $0[1] == "be" })
        XCTAssertTrue(frontend.events.contains(["device/vif/0", "fe"]))
        XCTAssertTrue(frontend.events.contains(["device/vif/0/state", "fe"]))
        XCTAssertTrue(frontend.events.contains(["device/vif/0/mtu", "fe"]))
        XCTAssertEqual(third.events, [])
    }

    // MARK: Removal

    func test_a_frontend_that_goes_takes_its_backend_nodes_with_it() {
        var other = vif
        other.frontend = 2
        let devices = [vif, vbd, other]
        server.addDevice(vif); server.addDevice(vbd); server.addDevice(other)
        // netback took the vif (Connected); no driver took the vbd (still Initialising).
        assertOK(backend.write("backend/vif/2/0/state", "4"))
        // netback's watch on the frontend's state (xenbus_watch_pathfmt(dev, &dev->otherend_watch, ...)).
        assertOK(backend.call(.watch, ["/local/domain/2/device/vif/0/state", "otherend"]))
        assertOK(backend.call(.watch, ["backend", "be"]))
        backend.events = []

        XCTAssertEqual(server.disconnectDevices(of: XenDomainID(rawValue: 2), devices), [vif, vbd])
        server.release(2)
        backend.service()
        // The frontend's state went (XenbusStateUnknown for netback); the backend is asked to
        // close (online 0, state 5) as xl destroy does; the vbd nobody served went at once.
        XCTAssertEqual(backend.events.first, ["/local/domain/2/device/vif/0/state", "otherend"])
        XCTAssertTrue(backend.events.contains(["backend/vif/2/0/state", "be"]))
        XCTAssertTrue(backend.events.contains(["backend/vbd/2/51712", "be"]))
        XCTAssertEqual(backend.read("backend/vif/2/0/online").text, "0")
        XCTAssertEqual(backend.read("backend/vif/2/0/state").text, "5")
        assertError(backend.read("backend/vbd/2/51712/state"), "ENOENT")
        XCTAssertTrue(server.isClosing(vif))
        XCTAssertTrue(server.hasClosingDevices(devices))

        // Rebooted before the backend closed: the vbd comes back, the vif waits.
        server.introduceGuest(2)
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 2), devices), [vbd])
        XCTAssertEqual(server.text("/local/domain/2/device/vbd/51712/backend"), "/local/domain/1/backend/vbd/2/51712")
        XCTAssertNil(server.text("/local/domain/2/device/vif/0/backend"))
        XCTAssertEqual(server.settleDevices(devices), [])
        // Closed is not enough while netback still watches the frontend's state (its device lives).
        assertOK(backend.write("backend/vif/2/0/feature-sg", "1"))
        assertOK(backend.write("backend/vif/2/0/state", "6"))
        XCTAssertEqual(server.settleDevices(devices), [])
        // xenbus_dev_remove drops that watch first: the old directory goes (libxl__device_destroy)
        // and the rebooted frontend's device is written anew.
        assertOK(backend.call(.unwatch, ["/local/domain/2/device/vif/0/state", "otherend"]))
        XCTAssertEqual(server.settleDevices(devices), [vif])
        XCTAssertFalse(server.hasClosingDevices(devices))
        XCTAssertEqual(server.text("/local/domain/1/backend/vif/2/0/state"), "1")
        XCTAssertEqual(server.text("/local/domain/1/backend/vif/2/0/online"), "1")
        XCTAssertNil(server.text("/local/domain/1/backend/vif/2/0/feature-sg"))
        XCTAssertEqual(server.text("/local/domain/2/device/vif/0/state"), "1")
        XCTAssertEqual(server.text("/local/domain/3/device/vif/0/state"), "1")

        // A frontend that does not come back: its closed device goes, and the emptied parents
        // with it (libxl__xs_path_cleanup); domain 3's device stays.
        assertOK(backend.write("backend/vif/2/0/state", "4"))
        assertOK(backend.call(.watch, ["/local/domain/2/device/vif/0/state", "otherend"]))
        server.disconnectDevices(of: XenDomainID(rawValue: 2), devices)
        server.release(2)
        assertOK(backend.write("backend/vif/2/0/state", "6"))
        assertOK(backend.call(.unwatch, ["/local/domain/2/device/vif/0/state", "otherend"]))
        XCTAssertEqual(server.settleDevices(devices), [])
        XCTAssertFalse(server.hasDevice(vif))
        XCTAssertFalse(server.hasDevice(vbd))
        XCTAssertEqual(backend.call(.directory, ["backend"]).strings, ["vif"])
        XCTAssertEqual(backend.call(.directory, ["backend/vif"]).strings, ["3"])
        XCTAssertNil(server.text("/libxl/2/device/vif/0/backend"))
        XCTAssertEqual(server.text("/libxl/3/device/vif/0/frontend"), "/local/domain/3/device/vif/0")
    }

    func test_a_backend_the_frontend_closed_before_it_ended_waits_until_it_lets_go() {
        // Linux's reboot closes its frontends: netback is Closed (6) but keeps its device.
        let devices = [vif]
        server.addDevice(vif)
        assertOK(backend.call(.watch, ["/local/domain/2/device/vif/0/state", "otherend"]))
        assertOK(backend.write("backend/vif/2/0/state", "6"))
        XCTAssertEqual(server.disconnectDevices(of: XenDomainID(rawValue: 2), devices), [vif])
        server.release(2)
        XCTAssertTrue(server.isClosing(vif))
        XCTAssertEqual(server.text("/local/domain/1/backend/vif/2/0/state"), "6")
        XCTAssertEqual(server.text("/local/domain/1/backend/vif/2/0/online"), "0")
        // The frontend is back before netback noticed: nothing is written yet.
        server.introduceGuest(2)
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 2), devices), [])
        XCTAssertEqual(server.settleDevices(devices), [])
        // netback's device is removed (its watch goes first): then a fresh device.
        assertOK(backend.call(.unwatch, ["/local/domain/2/device/vif/0/state", "otherend"]))
        XCTAssertEqual(server.settleDevices(devices), [vif])
        XCTAssertEqual(server.text("/local/domain/1/backend/vif/2/0/state"), "1")
        XCTAssertEqual(server.text("/local/domain/2/device/vif/0/state"), "1")
    }

    func test_a_connected_disk_stays_with_its_frontend_while_the_driver_domain_reboots() {
        let devices = [vbd]
        server.addDevice(vbd)
        assertOK(frontend.write("device/vbd/51712/ring-ref", "8"))
        assertOK(frontend.write("device/vbd/51712/state", "4"))
        XCTAssertEqual(server.disconnectDevices(of: XenDomainID(rawValue: 1), devices), [vbd])
        server.release(1)
        // blkfront keeps its device (it could not unplug a mounted disk); the backend is gone.
        XCTAssertTrue(server.isParked(vbd))
        XCTAssertEqual(frontend.read("device/vbd/51712/ring-ref").text, "8")
        XCTAssertNil(server.text("/local/domain/1/backend/vbd/2/51712/state"))
        // Back, but not yet talking to the store: nothing yet.
        server.introduceGuest(1)
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 1), devices, backendReady: { _ in false }), [])
        // Then the backend is written again and can read what blkfront wrote before.
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 1), devices), [vbd])
        XCTAssertFalse(server.isParked(vbd))
        XCTAssertEqual(backend.read("backend/vbd/2/51712/state").text, "1")
        XCTAssertEqual(backend.read("/local/domain/2/device/vbd/51712/ring-ref").text, "8")
        XCTAssertEqual(backend.read("/local/domain/2/device/vbd/51712/state").text, "4")
        assertError(third.read("/local/domain/2/device/vbd/51712/ring-ref"), "EACCES")
        // A frontend that ends while parked takes its directory with it.
        XCTAssertEqual(server.disconnectDevices(of: XenDomainID(rawValue: 1), devices), [vbd])
        server.release(1)
        server.disconnectDevices(of: XenDomainID(rawValue: 2), devices)
        XCTAssertFalse(server.hasDevice(vbd))
    }

    func test_a_closing_device_goes_with_its_driver_domain() {
        let devices = [vif]
        server.addDevice(vif)
        assertOK(backend.call(.watch, ["/local/domain/2/device/vif/0/state", "otherend"]))
        assertOK(backend.write("backend/vif/2/0/state", "4"))
        server.disconnectDevices(of: XenDomainID(rawValue: 2), devices)
        server.release(2)
        XCTAssertTrue(server.isClosing(vif))
        // The driver domain ends without closing it: everything goes.
        XCTAssertEqual(server.disconnectDevices(of: XenDomainID(rawValue: 1), devices), [vif])
        server.release(1)
        XCTAssertFalse(server.hasDevice(vif))
        XCTAssertFalse(server.hasClosingDevices(devices))
        server.introduceGuest(1); server.introduceGuest(2)
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 2), devices), [vif])
    }

    func test_a_driver_domain_that_goes_unplugs_its_frontends_devices_until_it_returns() {
        var other = vif
        other.frontend = 2
        let devices = [vif, vbd, other]
        server.connectDevices(of: XenDomainID(rawValue: 1), devices)
        assertOK(frontend.call(.watch, ["device", "fe"]))
        assertOK(frontend.call(.watch, ["/local/domain/1/backend/vif/2/0/state", "otherend"]))
        frontend.events = []

        XCTAssertEqual(server.disconnectDevices(of: XenDomainID(rawValue: 1), devices), devices)
        server.release(1)
        frontend.service()
        // xenbus_dev_changed finds device/vif/0 gone and unregisters the device.
        XCTAssertTrue(frontend.events.contains(["device/vif/0", "fe"]))
        XCTAssertTrue(frontend.events.contains(["device/vbd/51712", "fe"]))
        XCTAssertTrue(frontend.events.contains(["/local/domain/1/backend/vif/2/0/state", "otherend"]))
        assertError(frontend.read("device/vif/0/state"), "ENOENT")
        assertError(frontend.call(.directory, ["device/vif"]), "ENOENT")
        XCTAssertEqual(frontend.call(.directory, ["device"]).strings, ["suspend"])
        XCTAssertNil(server.text("/local/domain/3/device/vif/0/backend"))

        // With the driver domain gone, nothing is written for a frontend that (re)boots.
        server.release(2); server.introduceGuest(2)
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 2), devices), [])
        assertError(frontend.read("device/vif/0/state"), "ENOENT")

        // The driver domain is back, but has not talked to the store yet: nothing is written
        // (a frontend may not have unplugged the old device yet).
        server.introduceGuest(1)
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 1), devices, backendReady: { _ in false }), [])
        XCTAssertNil(server.text("/local/domain/2/device/vif/0/state"))
        // Its first store request: each frontend gets a fresh device.
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 1), devices, backendReady: { $0.rawValue == 1 }), devices)
        XCTAssertEqual(server.text("/local/domain/2/device/vif/0/state"), "1")
        XCTAssertEqual(server.text("/local/domain/3/device/vif/0/backend"), "/local/domain/1/backend/vif/3/0")
        XCTAssertEqual(server.text("/local/domain/1/backend/vbd/2/51712/params"), "/srv/beta.img")
    }

    func test_nothing_is_written_until_both_ends_are_introduced() {
        let devices = [vif]
        server.release(1)
        XCTAssertFalse(server.addDevice(vif))
        XCTAssertEqual(server.connectDevices(of: XenDomainID(rawValue: 2), devices), [])
        XCTAssertNil(server.text("/local/domain/2/device/vif/0/backend"))
        XCTAssertFalse(server.hasDevice(vif))
        XCTAssertEqual(server.disconnectDevices(of: XenDomainID(rawValue: 2), devices), [])
        // A device naming one guest at both ends is never written.
        var loop = vif
        loop.backend = 1
        XCTAssertFalse(server.addDevice(loop))
    }

    func assertOK(_ r: XenstoreReply, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.strings, ["OK"], file: file, line: line)
    }

    func assertError(_ r: XenstoreReply, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(r.isError, "not an error: \(r.strings)", file: file, line: line)
        XCTAssertEqual(r.strings, [name], file: file, line: line)
    }
}
