import Foundation
import XCTest
@testable import SwiftvisorHost

/// Guests/hostile: a third domain attacks two others through Xen's interfaces (grants meant
/// for another domain, guessed refs, others' ports, physmap changes in other domains, its own
/// shared_info / vcpu_info / runstate in awkward places then ballooned out, arguments crossing
/// into unmapped pages, multicall batches, an event flood). Every attempt gets Xen's answer or
/// an injected abort; the victims find their pages, grants and ports as they left them.
final class HostileGuestTests: XCTestCase {
    let systems = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Systems")

    func test_a_hostile_guest_reaches_nothing_it_was_not_given() throws {
        for cpu in SystemTests.only(["cortex-a57", "max"]) {
            var options = SystemRunner.Options()
            options.cpu = cpu
            options.cores = 2
            options.timeout = 180
            options.echo = false
            let o = try SystemRunner(log: { _ in }).run(systems.appendingPathComponent("hostile.toml"), options: options)
            let log = cpu + "\n--- console ---\n" + o.lines.joined(separator: "\n")
            XCTAssertEqual(o.verdict, .success, log)
            XCTAssertNil(o.report.panic, log)
            let owner = o.report.guestLines["owner"] ?? [], friend = o.report.guestLines["friend"] ?? [],
                intruder = o.report.guestLines["intruder"] ?? []
            XCTAssertFalse((owner + friend + intruder).contains { $0.hasPrefix("FAIL") }, log)
            for line in ["ok guessing refs 0-511: only 20 and 21 (granted to it) can be read",
                         "ok copy from ref 10 (granted to domain 2) -> GNTST_general_error",
                         "ok bind_interdomain to domain 1's port offered to domain 2 -> -EINVAL",
                         "ok reset of domain 1 -> -EPERM", "ok add_to_physmap(shared_info) into domain 1 -> -EPERM",
                         "ok multicall: status -> -EPERM, reset -> -EPERM, current_reservation -> -EPERM",
                         "ok register_vcpu_info(vCPU 1) in a read-only grant mapping -> -EINVAL",
                         "ok register_vcpu_info(vCPU 0) in a ballooned-out page -> -EINVAL, as Xen",
                         "ok the grant mapped there shows the owner's data, no pending bits",
                         "ok events and switches with those pages gone: still running",
                         "ok 100000 sends at the owner -> 0 each", "0 failure(s)"] {
                XCTAssertTrue(intruder.contains(line), line + " " + log)
            }
            for line in ["ok the intruder finished while the owner kept running", "ok the friend's page is intact",
                         "ok the mailbox page (read-only to the intruder) is intact", "ok grant entries 10 and 11: unchanged, never in use",
                         "ok port 1 still unbound, offered to domain 2", "ok the friend wrote through ref 10", "0 failure(s)"] {
                XCTAssertTrue(owner.contains(line), line + " " + log)
            }
            XCTAssertTrue(friend.contains("ok bind_interdomain to the port offered to it -> 0 (the intruder did not take it)"), log)
        }
    }
}
