import Foundation
import XCTest
@testable import SwiftvisorHost
import SwiftvisorCore

/// Issue 10 §1: the guest keys `vif` and `disk` (xl.cfg's), each problem named with file,
/// line and key, and the devices the boot manifest carries.
final class DeviceConfigTests: XCTestCase {
    var dir: URL!
    var file: URL { dir.appendingPathComponent("system.toml") }
    var path: String { file.path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-devices-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(tinyELF(machine: 183)).write(to: dir.appendingPathComponent("kernel.elf"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ toml: String) -> Result<LoadedSystem, [ConfigError]> {
        try! Data(toml.utf8).write(to: file)
        do { return .success(try ConfigLoader.load(file) { _ in nil }) } catch let e as [ConfigError] { return .failure(e) } catch {
            XCTFail("unexpected \(error)"); return .failure([])
        }
    }

    func errors(_ toml: String) -> [String] {
        if case .failure(let e) = load(toml) { return e.map(\.description) }
        return []
    }

    /// A guest taking 5 lines (header, name, kernel, memory, `extra`) and a blank one.
    func guest(_ name: String, _ extra: String = "") -> String {
        "[[guest]]\nname = \"\(name)\"\nkernel = \"kernel.elf\"\nmemory = 16\n\(extra)\n\n"
    }

    // MARK: accepted

    func test_vifs_and_disks_reach_the_boot_manifest() throws {
        let system = try load(guest("net") + guest("web", """
            vif = ["backend=net", "backend=net, mac=00:16:3e:00:00:01, bridge=br1"]
            disk = ["backend=net, vdev=xvda, access=ro, target=/srv/web.img"]
            """)).get()
        let web = system.description.guests[1]
        XCTAssertEqual(web.vifs.map(\.backend), ["net", "net"])
        XCTAssertEqual(web.disks.map(\.vdev.name), ["xvda"])
        let layout = try BootLayout(system: system)
        let back = try layout.manifest.encoded.withUnsafeBytes { try BootManifest(bytes: $0) }
        XCTAssertEqual(back.devices, system.description.xenDevices)
        XCTAssertEqual(back.devices.map(\.kind), [.vif, .vif, .vbd])
        XCTAssertEqual(back.devices.map(\.devid), [0, 1, 51712])
        XCTAssertEqual(back.devices[2].target, "/srv/web.img")
        XCTAssertEqual(back.devices[2].readOnly, true)
        let derived = VirtualInterfaceSpec.derivedMAC(guest: "web", index: 0).text
        XCTAssertEqual(DeviceSummary.count(system.description), ", 3 PV device(s)")
        XCTAssertEqual(DeviceSummary.lines(system.description), [
            "  vif 0 of 'web': backend 'net', mac \(derived), bridge xenbr0",
            "  vif 1 of 'web': backend 'net', mac 00:16:3e:00:00:01, bridge br1",
            "  vbd xvda (51712) of 'web': backend 'net', target /srv/web.img, ro",
        ])
    }

    func test_a_system_without_devices_has_none() throws {
        let system = try load(guest("a")).get()
        XCTAssertEqual(system.description.xenDevices, [])
        XCTAssertEqual(DeviceSummary.count(system.description), "")
    }

    // MARK: the strings themselves (line and key of the entry)

    func test_a_bad_string_is_reported_on_its_keys_line() {
        XCTAssertEqual(errors(guest("net") + guest("web", "vif = [\"backend=net, script=vif-nat\"]")),
                       ["\(path):11: 'vif': \"backend=net, script=vif-nat\": swiftvisor does not support the vif key 'script': it takes backend, mac, bridge and type=vif"])
        XCTAssertEqual(errors(guest("net") + guest("web", "\ndisk = [\"phy:/dev/vdb,xvda,w\"]")),
                       ["\(path):12: 'disk': \"phy:/dev/vdb,xvda,w\": 'phy:/dev/vdb' is not key=value: swiftvisor reads only xl's key=value form, e.g. \"backend=NAME, vdev=xvda, access=rw, target=/PATH/IN/BACKEND\""])
        XCTAssertEqual(errors(guest("net") + guest("web", "disk = [\"backend=net, vdev=sda, target=/x\"]")),
                       ["\(path):11: 'disk': \"backend=net, vdev=sda, target=/x\": vdev 'sda' is not a name swiftvisor gives: only Xen PV names of whole disks, xvda to xvdz, xvdaa, ... (no hdX, sdX or partitions)"])
        XCTAssertEqual(errors(guest("a", "vif = \"backend=b\"")),
                       ["\(path):5: 'vif': must be an array of strings, e.g. [\"backend=NAME, bridge=xenbr0\"], not a string"])
    }

    // MARK: problems()

    func test_an_unknown_backend_is_named() {
        XCTAssertEqual(errors(guest("web", "vif = [\"backend=nett\"]")),
                       ["\(path):5: 'vif': guest 'web': backend 'nett' is not a guest of this system; the backend is the guest (driver domain) that serves the device"])
    }

    func test_a_guest_cannot_serve_itself() {
        XCTAssertEqual(errors(guest("web", "disk = [\"backend=web, vdev=xvda, target=/x\"]")),
                       ["\(path):5: 'disk': guest 'web' cannot be its own backend: a driver domain serves other guests' devices"])
    }

    func test_a_cycle_is_reported_once() {
        XCTAssertEqual(errors(guest("a", "vif = [\"backend=b\"]") + guest("b", "vif = [\"backend=a\"]")),
                       ["\(path):5: 'vif': the backends form a cycle, 'a' -> 'b' -> 'a': each guest's devices would wait for the next; a driver domain's own devices must come from guests that do not depend on it"])
        XCTAssertEqual(errors(guest("a", "disk = [\"backend=b, vdev=xvda, target=/x\"]") + guest("b", "vif = [\"backend=c\"]")
                              + guest("c", "vif = [\"backend=a\"]") + guest("d", "vif = [\"backend=a\"]")),
                       ["\(path):5: 'disk': the backends form a cycle, 'a' -> 'b' -> 'c' -> 'a': each guest's devices would wait for the next; a driver domain's own devices must come from guests that do not depend on it"])
        // A chain is fine: c serves b, b serves a.
        XCTAssertEqual(errors(guest("a", "vif = [\"backend=b\"]") + guest("b", "vif = [\"backend=c\"]") + guest("c")), [])
    }

    func test_two_disks_with_one_vdev_are_refused() {
        XCTAssertEqual(errors(guest("s") + guest("web", "disk = [\"backend=s, vdev=xvda, target=/a\", \"backend=s, vdev=xvda, target=/b\"]")),
                       ["\(path):11: 'disk': guest 'web' has two disks named xvda; each vdev must be different"])
        // The same vdev in two guests is fine.
        XCTAssertEqual(errors(guest("s") + guest("a", "disk = [\"backend=s, vdev=xvda, target=/a\"]")
                              + guest("b", "disk = [\"backend=s, vdev=xvda, target=/b\"]")), [])
    }

    func test_a_mac_is_given_once_in_the_system() {
        XCTAssertEqual(errors(guest("net") + guest("a", "vif = [\"backend=net, mac=00:16:3e:00:00:01\"]")
                              + guest("b", "vif = [\"backend=net, mac=00:16:3E:00:00:01\"]")),
                       ["\(path):17: 'vif': guest 'b' vif 0: mac 00:16:3e:00:00:01 is also the mac of guest 'a' vif 0; every interface needs its own"])
        // A derived one counts too.
        let derived = VirtualInterfaceSpec.derivedMAC(guest: "a", index: 0).text
        XCTAssertEqual(errors(guest("net") + guest("a", "vif = [\"backend=net\"]") + guest("b", "vif = [\"backend=net, mac=\(derived)\"]")),
                       ["\(path):17: 'vif': guest 'b' vif 0: mac \(derived) is also the mac of guest 'a' vif 0; every interface needs its own"])
    }

    func test_a_multicast_or_malformed_mac_is_refused() {
        XCTAssertEqual(errors(guest("net") + guest("a", "vif = [\"backend=net, mac=01:16:3e:00:00:01\"]")),
                       ["\(path):11: 'vif': guest 'a' vif 0: mac 01:16:3e:00:00:01 is a multicast address (bit 0 of its first byte is set); an interface needs a unicast one, e.g. 00:16:3e:xx:xx:xx"])
        XCTAssertEqual(errors(guest("net") + guest("a", "vif = [\"backend=net, mac=00:16:3e:00:00\"]")),
                       ["\(path):11: 'vif': \"backend=net, mac=00:16:3e:00:00\": mac '00:16:3e:00:00' is not a MAC address: write six hexadecimal bytes as XX:XX:XX:XX:XX:XX"])
    }

    func test_both_guests_need_xenstore() {
        XCTAssertEqual(errors(guest("net", "enhanced = \"no-xenstore\"") + guest("a", "vif = [\"backend=net\"]")),
                       ["\(path):11: 'vif': its backend, guest 'net', has enhanced = \"no-xenstore\", but PV devices need xenstore on both sides: give it enhanced = \"enabled\""])
        XCTAssertEqual(errors(guest("net") + guest("a", "enhanced = \"disabled\"\ndisk = [\"backend=net, vdev=xvda, target=/x\"]")),
                       ["\(path):12: 'disk': guest 'a' has enhanced = \"disabled\", but PV devices need xenstore on both sides: give it enhanced = \"enabled\""])
    }

    func test_at_most_limits_devices_in_the_system() {
        let vifs = (0..<Limits.devices).map { _ in "\"backend=net\"" }.joined(separator: ", ")
        XCTAssertEqual(errors(guest("net") + guest("a", "vif = [\(vifs)]")), [])
        XCTAssertEqual(errors(guest("net") + guest("a", "vif = [\(vifs)]") + guest("b", "disk = [\"backend=net, vdev=xvda, target=/x\"]")),
                       ["\(path):17: 'disk': guest 'b': this is PV device number 33 of the system, but at most 32 can be given: the hypervisor's boot manifest has room for 32"])
    }

    func test_a_target_longer_than_the_manifest_holds_is_refused() {
        let long = "/" + String(repeating: "x", count: Limits.diskTargetLength)
        XCTAssertEqual(errors(guest("s") + guest("a", "disk = [\"backend=s, vdev=xvda, target=\(long)\"]")),
                       ["\(path):11: 'disk': guest 'a' xvda: target is 200 bytes long, but at most 199 fit in the boot manifest"])
    }
}
