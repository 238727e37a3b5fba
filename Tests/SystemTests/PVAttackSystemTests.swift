import Foundation
import XCTest
@testable import SwiftvisorHost

/// Issue 10 §3 as an attacker tries it: a hostile netfront (Guests/pvattack, domain 3) against
/// a Linux driver domain (alpha, domain 1: netback, the bridge xenbr0 at 10.0.0.1, httpd) that
/// also serves a well-behaved Linux frontend (gamma, domain 2, 10.0.0.2). The attacker lies to
/// netback through the xenbus handshake (ring refs and ports that are not the backend's, rings
/// naming grants it does not own, an impossible producer index, floods of notifications and
/// state writes) and goes for gamma's grants and nodes directly. Afterwards: the hypervisor ran
/// on, alpha's kernel printed no oops/BUG/WARNING, gamma still pings alpha and fetches its page
/// (after the attacker said it was done), and every answer about gamma was an error.
/// One QEMU run per CPU model.
final class PVAttackSystemTests: XCTestCase {
    func log(_ o: SystemRunner.Outcome) -> String { "\n--- console ---\n" + o.lines.joined(separator: "\n") }

    /// The Linux pair from LinuxSystem.prepare, and the attacker's table after them.
    static func system() throws -> URL {
        let network = LinuxNetwork(guests: ["alpha", "gamma"], disks: [])
        let test = ["gamma": "swiftvisor.nettest=survive:10.0.0.1:/local/domain/3/data/pvattack"]
        let linux = try LinuxSystem.prepare(guests: network.guests, extraArguments: LinuxNetwork.merge(network.arguments, test),
                                            keys: network.keys) { _ in }
        let toml = try String(contentsOf: linux, encoding: .utf8) + """

            [[guest]]
            name = "mallory"
            kernel = "guest:pvattack"
            memory = 16
            vif = ["backend=alpha"]

            """
        return try ContentNamedFile.write(Array(toml.utf8), in: linux.deletingLastPathComponent(), prefix: "linux-pvattack", extension: "toml")
    }

    func test_a_hostile_netfront_leaves_the_driver_domain_and_a_third_guest_unharmed() throws {
        let config = try Self.system()
        // On the default CPU only: the attacks meet the same grant, event-channel and xenstore code
        // on every CPU model (the max/VHE paths run in the grants and Linux network tests), and a
        // second run would add 2.5 minutes to the suite.
        for cpu in SystemTests.only(["cortex-a57"]) {
            var options = SystemRunner.Options()
            options.cpu = cpu
            options.timeout = 900
            options.echo = false
            let o = try SystemRunner(log: { _ in }).run(config, options: options)
            let alpha = o.report.guestLines["alpha"] ?? [], gamma = o.report.guestLines["gamma"] ?? []
            let mallory = o.report.guestLines["mallory"] ?? []
            XCTAssertEqual(o.verdict, .success, cpu + log(o))

            // The hypervisor ran on to the end, and tore the attacker's vif down.
            XCTAssertTrue(o.lines.contains("swiftvisor: all guests have finished"), cpu + log(o))
            XCTAssertFalse(o.lines.contains { $0.contains("panic") && $0.hasPrefix("swiftvisor") }, cpu + log(o))

            // The attacks ran, each answered.
            XCTAssertTrue(mallory.contains("pvattack: backend in state 2 (InitWait)"), cpu + log(o))
            XCTAssertTrue(mallory.contains { $0.hasPrefix("pvattack: valid rings and port ") && $0.hasSuffix("backend went to state 4 (Connected)") },
                          cpu + log(o))
            XCTAssertTrue(mallory.contains { $0.hasPrefix("pvattack: tx requests naming refs never granted") }, cpu + log(o))
            XCTAssertTrue(mallory.contains { $0.hasPrefix("pvattack: 20000 notifications on port") }, cpu + log(o))
            XCTAssertTrue(mallory.contains { $0.hasPrefix("pvattack: 360 state writes") }, cpu + log(o))
            // Lies about rings and ports: netback refuses the connection (xenbus_dev_fatal: Closing, then
            // the Connected it was heading for, with no rings), and takes a fresh handshake after each.
            for attack in ["Connected without ring references", "tx-ring-ref/rx-ring-ref never granted (refs 300, 301)",
                           "ring refs beyond its grant table (refs 70000, 70001)", "ring refs granted to domain 2, not the backend",
                           "ring refs granted then ended before Connected", "ring refs ended right after Connected",
                           "event-channel = its xenstore port 1", "event-channel = a port unbound for domain 2",
                           "event-channel = port 4000, never allocated", "event-channel closed right after Connected"] {
                XCTAssertTrue(mallory.contains { $0.hasPrefix("pvattack: \(attack): backend went to state ")
                    && $0.hasSuffix("; reset: backend in state 2 (InitWait)") }, attack + "; " + cpu + log(o))
            }
            // ... and its kernel said why (the grant and event-channel errors it got from the hypervisor).
            XCTAssertTrue(alpha.contains { $0.contains("vif vif-3-0: 1 mapping in shared page 300 from domain 3") }, cpu + log(o))
            XCTAssertTrue(alpha.contains { $0.contains("vif vif-3-0: 3 mapping in shared page 70000 from domain 3") }, cpu + log(o))
            XCTAssertTrue(alpha.contains { $0.contains("vif vif-3-0: 22 mapping shared-frames 8/9 port tx 4000 rx 4000") }, cpu + log(o))
            XCTAssertTrue(alpha.contains { $0.contains("vif3.0: Impossible number of requests") }, cpu + log(o))
            XCTAssertTrue(mallory.contains("pvattack: a clean connection at the end: backend went to state 4 (Connected)"), cpu + log(o))
            // Nothing of the third guest: every map and copy an error, its nodes refused.
            for who in ["domain 2's (the third guest)", "the backend's (domain 1)"] {
                XCTAssertTrue(mallory.contains { $0.hasPrefix("pvattack: \(who) grants, refs 0-511: ") && $0.hasSuffix("; 0 succeeded") },
                              who + "; " + cpu + log(o))
            }
            XCTAssertTrue(mallory.contains("pvattack: copy from domain 2's frame 0x40000: status -8"), cpu + log(o))
            XCTAssertTrue(mallory.contains("pvattack: READ /local/domain/2/device/vif/0/tx-ring-ref: EACCES"), cpu + log(o))
            XCTAssertTrue(mallory.contains("0 failure(s)"), cpu + log(o))

            // The driver domain: no oops, BUG or WARNING; it served both.
            XCTAssertTrue(alpha.contains("xendevd: vif2.0 joined xenbr0"), cpu + log(o))
            XCTAssertTrue(alpha.contains("xendevd: vif3.0 joined xenbr0"), cpu + log(o))
            for guest in ["alpha", "gamma"] {
                // Including the balloon's hotplug below RAM ("WARNING: ... vmemmap_populate" from
                // xen-balloon) that netback's failed connects once caused (XenstoreGlue.grantReserveKiB).
                let lines = o.report.guestLines[guest] ?? []
                for bad in SystemTests.linuxTrouble {
                    XCTAssertFalse(lines.contains { $0.contains(bad) }, "\(guest) printed '\(bad)'; \(cpu)" + log(o))
                }
                XCTAssertTrue(o.report.succeeded(guest), "\(guest); \(cpu)" + log(o))
            }

            // gamma, after the attacker said it was done: still pings alpha and fetches its page.
            XCTAssertTrue(gamma.contains { $0.hasPrefix("swiftvisor-init: net: ping 10.0.0.1: 3 packets transmitted, 3 packets received") },
                          cpu + log(o))
            let done = o.lines.firstIndex { $0.hasSuffix("pvattack: done") }
            let ping = o.lines.firstIndex { $0.hasSuffix("swiftvisor-init: net: after the attacks: ping 10.0.0.1 ok") }
            XCTAssertNotNil(done, cpu + log(o))
            XCTAssertNotNil(ping, cpu + log(o))
            if let done, let ping { XCTAssertLessThan(done, ping, "gamma's ping came after the attacks; " + cpu + log(o)) }
            XCTAssertTrue(gamma.contains { $0.hasPrefix("swiftvisor-init: net: after the attacks: wget http://10.0.0.1/: <p>hello from alpha, the driver domain (domain 1") },
                          cpu + log(o))
        }
    }
}
