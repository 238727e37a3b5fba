import Foundation
import XCTest
@testable import SwiftvisorHost

/// Issue 10 end to end: three Linux guests with Xen PV network interfaces and a PV disk between
/// them, with Linux's own drivers on both sides. alpha is the driver domain (netback, blkback,
/// the bridge xenbr0 at 10.0.0.1, httpd, xendevd running the hotplug scripts); beta (10.0.0.2)
/// has a vif and a disk xvda served from a file in alpha; gamma (10.0.0.3) a vif.
/// One QEMU run per CPU model (each Linux boot costs tens of seconds under TCG), in which:
/// the frontends ping each other and alpha; gamma sends beta 32 MiB over TCP (busybox nc) through
/// alpha's bridge, and both print its sha256; beta writes a line to its disk each boot and reads
/// the earlier ones back after rebooting itself, while alpha keeps running; on its second boot
/// beta crashes its kernel while streaming to gamma: alpha and gamma keep running, gamma still
/// pings alpha and fetches its page, and beta (panic=-1: it reboots) comes back with its
/// network and disk. Last, alpha reboots: gamma's interface goes and comes back, configured
/// again, and gamma reaches alpha's new boot. The scenario's guest side is LinuxNetworkScripts.netTest.
final class LinuxNetworkSystemTests: XCTestCase {
    func log(_ o: SystemRunner.Outcome) -> String { "\n--- console ---\n" + o.lines.joined(separator: "\n") }

    static let size = 32 * 1024 * 1024

    func test_pv_network_and_disk_between_linux_guests_through_a_driver_domain() throws {
        let network = LinuxNetwork.standard
        let test = ["alpha": "swiftvisor.nettest=driver", "beta": "swiftvisor.nettest=receive:10.0.0.3 panic=-1",
                    "gamma": "swiftvisor.nettest=send:10.0.0.2:10.0.0.1"]
        let config = try LinuxSystem.prepare(guests: network.guests, extraArguments: LinuxNetwork.merge(network.arguments, test),
                                             keys: network.keys) { _ in }
        for cpu in SystemTests.only(SystemTests.cpus) {
            var options = SystemRunner.Options()
            options.cpu = cpu
            options.timeout = 900
            options.echo = false
            let o = try SystemRunner(log: { _ in }).run(config, options: options)
            let alphaAll = o.report.guestLines["alpha"] ?? [], beta = o.report.guestLines["beta"] ?? [], gamma = o.report.guestLines["gamma"] ?? []
            func has(_ lines: [String], _ line: String) -> Bool { lines.contains(line) }
            func value(_ lines: [String], after prefix: String) -> String? {
                lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            }
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            // alpha's two boots: the second when gamma asks, at the end.
            let reboot = alphaAll.firstIndex { $0.hasPrefix("swiftvisor-init: net: rebooting after ") } ?? alphaAll.endIndex
            let alpha = Array(alphaAll[..<reboot]), alphaBoot2 = Array(alphaAll[reboot...])
            XCTAssertTrue(alphaAll.contains { $0.hasPrefix("swiftvisor-init: net: rebooting after ") && $0.hasSuffix(" s up (boot 1), as gamma asked") }, cpu + log(o))

            // The driver domain: its bridge, page, disk file and the hotplug scripts' work.
            XCTAssertTrue(has(alpha, "swiftvisor-init: net: bridge xenbr0 with 10.0.0.1/24"), cpu + log(o))
            XCTAssertTrue(has(alpha, "swiftvisor-init: net: httpd serving http://10.0.0.1/"), cpu + log(o))
            XCTAssertTrue(has(alpha, "swiftvisor-init: net: disk file /srv/beta-xvda.img: 32 MiB (sparse)"), cpu + log(o))
            XCTAssertEqual(alpha.filter { $0 == "xendevd: vif3.0 joined xenbr0" }.count, 1, cpu + log(o))
            XCTAssertEqual(alphaBoot2.filter { $0 == "xendevd: vif3.0 joined xenbr0" }.count, 1, cpu + log(o))
            // beta's vif and vbd, once per boot (three boots).
            XCTAssertEqual(alpha.filter { $0 == "xendevd: vif2.0 joined xenbr0" }.count, 3, cpu + log(o))
            XCTAssertEqual(alpha.filter { $0.hasPrefix("xendevd: vbd 2-51712: /srv/beta-xvda.img on /dev/loop") }.count, 3, cpu + log(o))

            // Ping both ways between the frontends, and to the driver domain.
            for (lines, target) in [(beta, "10.0.0.1"), (beta, "10.0.0.3"), (gamma, "10.0.0.1"), (gamma, "10.0.0.2")] {
                XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor-init: net: ping \(target): 3 packets transmitted, 3 packets received") },
                              "ping \(target); " + cpu + log(o))
            }
            // netfront's interface, with the vif's MAC (Xen's 00:16:3e prefix).
            XCTAssertTrue(beta.contains { $0.hasPrefix("swiftvisor-init: net: eth0 up with 10.0.0.2/24 (mac 00:16:3e:") }, cpu + log(o))

            // 32 MiB over TCP, gamma to beta through alpha's bridge: the same sha256 on both sides.
            let sent = value(gamma, after: "swiftvisor-init: net: sent \(Self.size) bytes to 10.0.0.2, sha256 ")
            let received = value(beta, after: "swiftvisor-init: net: received \(Self.size) bytes, sha256 ")
            XCTAssertNotNil(sent, cpu + log(o))
            XCTAssertEqual(sent?.count, 64, cpu + log(o))
            XCTAssertEqual(sent, received, cpu + log(o))

            // The disk: made on the first boot, each boot's line read back on the next ones,
            // written while alpha kept running (one boot, one /init).
            XCTAssertTrue(has(beta, "swiftvisor-init: net: disk: made an ext2 filesystem on /dev/xvda"), cpu + log(o))
            XCTAssertEqual(beta.filter { $0 == "swiftvisor-init: net: disk: /dev/xvda (32 MiB) mounted on /mnt" }.count, 3, cpu + log(o))
            let boot1 = beta.filter { $0.hasPrefix("swiftvisor-init: net: disk: /mnt/boots.txt: boot 1 of beta, ") }
            XCTAssertEqual(boot1.count, 3, "boot 1's line, read on boots 1, 2 and 3; " + cpu + log(o))
            XCTAssertEqual(Set(boot1).count, 1, cpu + log(o))
            XCTAssertEqual(beta.filter { $0.hasPrefix("swiftvisor-init: net: disk: /mnt/boots.txt: boot 2 of beta, ") }.count, 2, cpu + log(o))
            XCTAssertTrue(o.lines.contains("swiftvisor: guest 'beta' rebooting (boot 2)"), cpu + log(o))
            XCTAssertEqual(alpha.filter { $0 == "swiftvisor-init: /init started" }.count, 1, "alpha did not restart meanwhile; " + cpu + log(o))
            if let betaBack = o.lines.firstIndex(of: "swiftvisor: guest 'beta' rebooting (boot 3)"),
               let alphaReboot = o.lines.firstIndex(of: "swiftvisor: guest 'alpha' rebooting (boot 2)") {
                XCTAssertLessThan(betaBack, alphaReboot, cpu + log(o))
            } else { XCTFail("beta's third boot, alpha's second; " + cpu + log(o)) }

            // beta crashed mid-transfer: alpha and gamma unharmed, gamma still reaches alpha.
            XCTAssertTrue(beta.contains { $0.hasPrefix("swiftvisor-init: net: crashing the kernel mid-transfer, ") }, cpu + log(o))
            XCTAssertTrue(o.lines.contains("swiftvisor: guest 'beta' crashed: its kernel panicked"), cpu + log(o))
            // The stream had started (1 MiB or more) when beta crashed.
            let stopped = value(gamma, after: "swiftvisor-init: net: the stream from 10.0.0.2 stopped after ")
            XCTAssertGreaterThanOrEqual(Int(stopped?.split(separator: " ").first ?? "") ?? 0, 1, cpu + log(o))
            XCTAssertTrue(has(gamma, "swiftvisor-init: net: after the crash: ping 10.0.0.1 ok"), cpu + log(o))
            XCTAssertTrue(has(gamma, "swiftvisor-init: net: after the crash: wget http://10.0.0.1/: <p>hello from alpha, the driver domain (domain 1, boot 1)</p>"), cpu + log(o))
            // ... and beta came back, with its network.
            XCTAssertTrue(o.lines.contains("swiftvisor: guest 'beta' rebooting (boot 3)"), cpu + log(o))
            XCTAssertTrue(has(gamma, "swiftvisor-init: net: from 10.0.0.2 after its reboot: beta is back (boot 3)"), cpu + log(o))

            // alpha rebooted: gamma's interface went with it and came back, configured again.
            XCTAssertTrue(has(gamma, "swiftvisor-init: net: 10.0.0.1 is gone"), cpu + log(o))
            XCTAssertEqual(gamma.filter { $0.hasPrefix("swiftvisor-init: net: eth0 up with 10.0.0.3/24 (mac 00:16:3e:") }.count, 2, cpu + log(o))
            XCTAssertTrue(has(gamma, "swiftvisor-init: net: after 10.0.0.1's reboot: ping 10.0.0.1 ok"), cpu + log(o))
            XCTAssertTrue(has(gamma, "swiftvisor-init: net: after 10.0.0.1's reboot: wget http://10.0.0.1/: <p>hello from alpha, the driver domain (domain 1, boot 2)</p>"), cpu + log(o))
            XCTAssertTrue(alphaBoot2.contains { $0.hasPrefix("swiftvisor-init: net: no frontends left after ") && $0.hasSuffix(" s up (boot 2)") }, cpu + log(o))

            for guest in ["alpha", "gamma"] {
                let lines = o.report.guestLines[guest] ?? []
                for bad in SystemTests.linuxTrouble {
                    XCTAssertFalse(lines.contains { $0.contains(bad) }, "\(guest) printed '\(bad)'; \(cpu)" + log(o))
                }
                XCTAssertTrue(o.report.succeeded(guest), "\(guest); \(cpu)" + log(o))
            }
        }
    }
}
