import Foundation
import XCTest
@testable import SwiftvisorHost

/// xenstore served by the hypervisor: bare-metal domUs speaking its protocol on their rings, and
/// Linux's xenbus using it — two Linux guests meeting through it (xenmeet: a grant and an event
/// channel published under data/), and `shutdown NAME` at the hypervisor console powering Linux
/// off through control/shutdown. On a CPU without VHE (cortex-a57) and one with it (max).
final class XenstoreSystemTests: XCTestCase {
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")
    static let cpus = SystemTests.only(SystemTests.cpus)

    func log(_ o: SystemRunner.Outcome) -> String { "\n--- console ---\n" + o.lines.joined(separator: "\n") }

    func test_guests_speak_the_xenstore_protocol_on_their_rings() throws {
        for cpu in Self.cpus {
            var options = SystemRunner.Options()
            options.cpu = cpu
            options.timeout = 120
            options.echo = false
            let o = try SystemRunner(log: { _ in }).run(systems.appendingPathComponent("xenstore.toml"), options: options)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            for (name, domid) in [("store1", 1), ("store2", 2)] {
                let lines = o.report.guestLines[name] ?? []
                XCTAssertFalse(lines.contains { $0.hasPrefix("FAIL") }, cpu + log(o))
                XCTAssertTrue(lines.contains("store: name \(name), domid \(domid)"), cpu + log(o))
                for check in ["ok the store page is the second magic page", "ok GET_DOMAIN_PATH -> /local/domain/N",
                              "ok READ data/greeting -> hello", "ok the watch fires when set", "ok the watch fires at the write",
                              "ok the watch fires at the removal", "ok READ the other domain's name -> EACCES",
                              "ok WRITE its own name (read-only) -> EACCES", "ok an upcall on the store port came with the reply",
                              "0 failure(s)"] {
                    XCTAssertTrue(lines.contains(check), check + " " + cpu + log(o))
                }
            }
        }
    }

    func test_linux_guests_meet_through_xenstore_and_power_off_when_asked() throws {
        let uuids = ["alpha": "a1fa0000-0000-4000-8000-000000000001", "beta": "bE7a0000-0000-4000-8000-000000000002"]
        // alpha stays at its shell after the report, so that the hypervisor console asks it.
        let config = try LinuxSystem.prepare(guests: ["alpha", "beta"], hvc0: ["beta"],
                                             extraArguments: ["alpha": LinuxSystem.xenmeetPair["alpha"]! + " swiftvisor.shell",
                                                              "beta": LinuxSystem.xenmeetPair["beta"]!],
                                             uuids: uuids) { _ in }
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        for cpu in Self.cpus {
            let typist = SystemTests.Typist { t, line in
                switch (t.step, line) {
                case (0, "alpha | swiftvisor-init: done"):
                    t.step = 1; return "\u{1D}shutdown alpha\r"   // Ctrl-], then the hypervisor console's command
                default: return nil
                }
            }
            var options = SystemRunner.Options()
            options.cpu = cpu
            options.timeout = 300
            options.echo = false
            options.input = .respond { typist.answer($0) }
            let o = try SystemRunner(log: { _ in }).run(config, options: options)
            XCTAssertEqual(o.verdict, .success, cpu + log(o))
            for guest in ["alpha", "beta"] {
                let lines = o.report.guestLines[guest] ?? []
                for bad in SystemTests.linuxTrouble {
                    XCTAssertFalse(lines.contains { $0.contains(bad) }, "\(guest) printed '\(bad)'; \(cpu)" + log(o))
                }
                XCTAssertTrue(lines.contains { $0.contains("Xen 4.17 support found") }, guest + cpu + log(o))
                XCTAssertTrue(lines.contains { $0.contains("xen:events: Using 2-level ABI") }, guest + cpu + log(o))
                XCTAssertTrue(lines.contains { $0.contains("xen:grant_table: Grant tables using version 1 layout") }, guest + cpu + log(o))
                // /sys/hypervisor: type, version and the guest's own uuid (xenbus read it from the store's vm path).
                XCTAssertTrue(lines.contains("swiftvisor-init: hypervisor: xen 4.17-swiftvisor uuid \(uuids[guest]!.lowercased())"), guest + cpu + log(o))
                XCTAssertTrue(lines.contains { $0.hasPrefix("swiftvisor-init: date: \(year)-") }, guest + cpu + log(o))
                XCTAssertTrue(lines.contains("swiftvisor-init: xenmeet: exit status 0"), guest + cpu + log(o))
                XCTAssertTrue(o.report.succeeded(guest), guest + cpu + log(o))
            }
            let alpha = o.report.guestLines["alpha"] ?? [], beta = o.report.guestLines["beta"] ?? []
            XCTAssertTrue(alpha.contains { $0.hasPrefix("xenmeet: offered grant and port: ") }, cpu + log(o))
            XCTAssertTrue(beta.contains("xenmeet: received: hello from alpha"), cpu + log(o))
            XCTAssertTrue(alpha.contains("xenmeet: received: hello back from beta"), cpu + log(o))
            XCTAssertTrue(beta.contains("xenmeet: received: goodbye from alpha"), cpu + log(o))
            // `shutdown alpha`: asked through control/shutdown, Linux powers off through init.
            XCTAssertEqual(typist.step, 1, cpu + log(o))
            XCTAssertTrue(o.lines.contains { $0.hasPrefix("swiftvisor: guest 'alpha' asked to power off through xenstore") }, cpu + log(o))
            XCTAssertTrue(alpha.contains { $0.hasSuffix("swiftvisor-init: shutting down") }, cpu + log(o))
            XCTAssertTrue(o.summary.contains("  alpha: poweroff, exit code 0"), cpu + "\(o.summary)" + log(o))
        }
    }
}
