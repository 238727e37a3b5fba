import XCTest
@testable import SwiftvisorCore

/// The xenstore server answers a domU as Xen 4.17's xenstored does (docs/misc/xenstore.txt,
/// tools/xenstore/xenstored_*.c), over the guest's ring page.
final class XenstoreTests: XCTestCase {
    var server = XenstoreServer()
    var guest1: XenstoreGuest!
    var guest2: XenstoreGuest!

    override func setUp() {
        server = XenstoreServer()
        server.introduceGuest(1, vcpus: 2)
        server.introduceGuest(2)
        guest1 = XenstoreGuest(server, domid: 1)
        guest2 = XenstoreGuest(server, domid: 2)
    }

    func assertOK(_ r: XenstoreReply, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.strings, ["OK"], file: file, line: line)
    }

    func assertError(_ r: XenstoreReply, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(r.isError, "not an error: \(r.strings)", file: file, line: line)
        XCTAssertEqual(r.strings, [name], file: file, line: line)
    }

    // MARK: What xl puts in the store

    func test_a_guest_finds_its_domain_as_xl_populates_it() {
        XCTAssertEqual(guest1.read("name").text, "guest1")
        XCTAssertEqual(guest1.read("domid").text, "1")
        XCTAssertEqual(guest1.read("vm").text, "/vm/01010101-0101-0101-0101-010101010101")
        XCTAssertEqual(guest1.read("/vm/01010101-0101-0101-0101-010101010101/uuid").text, "01010101-0101-0101-0101-010101010101")
        XCTAssertEqual(guest1.read("/vm/01010101-0101-0101-0101-010101010101/name").text, "guest1")
        XCTAssertEqual(guest1.read("memory/target").text, "131072")
        XCTAssertEqual(guest1.read("memory/static-max").text, "131072")
        XCTAssertEqual(guest1.read("cpu/1/availability").text, "online")
        XCTAssertEqual(guest1.read("control/platform-feature-xs_reset_watches").text, "1")
        XCTAssertEqual(guest1.call(.directory, ["control"]).strings,
                       ["shutdown", "feature-poweroff", "feature-reboot", "feature-suspend", "sysrq",
                        "platform-feature-multiprocessor-suspend", "platform-feature-xs_reset_watches"])
        // xl's permissions: the domain's directory is read-only to it, control/shutdown and data are its own.
        XCTAssertEqual(guest1.call(.getPerms, ["/local/domain/1"]).strings, ["n0", "r1"])
        XCTAssertEqual(guest1.call(.getPerms, ["name"]).strings, ["n0", "r1"])
        XCTAssertEqual(guest1.call(.getPerms, ["control/shutdown"]).strings, ["n1"])
        XCTAssertEqual(guest1.call(.getPerms, ["data"]).strings, ["n1"])
        assertError(guest1.write("name", "other"), "EACCES")
        assertOK(guest1.write("control/feature-poweroff", "1"))
        assertOK(guest1.write("data/x", "1"))
        // /libxl is the toolstack's.
        assertError(guest1.read("/libxl/1/type"), "EACCES")
        XCTAssertEqual(server.text("/libxl/1/type"), "pvh")
        XCTAssertNil(server.text("/vm/01010101-0101-0101-0101-010101010101/start_time"))
        var info = XenstoreDomainInfo(domid: 3, name: Array("c".utf8), uuid: [UInt8](repeating: 3, count: 16), vcpus: 1, memoryKiB: 1024)
        info.startTimeHundredths = 178_000_000_005
        info.storePort = 1
        info.storeFrame = 0x39001
        server.introduce(info)
        XCTAssertEqual(server.text("/vm/03030303-0303-0303-0303-030303030303/start_time"), "1780000000.05")
        XCTAssertEqual(server.text("/local/domain/3/store/port"), "1")
        XCTAssertEqual(server.text("/local/domain/3/store/ring-ref"), "233473")
    }

    func test_a_guest_cannot_see_another_guests_domain() {
        assertError(guest1.read("/local/domain/2/name"), "EACCES")
        assertError(guest1.write("/local/domain/2/data/x", "1"), "EACCES")
        assertError(guest1.call(.directory, ["/local/domain"]), "EACCES")
        assertError(guest1.read("/"), "EACCES")
    }

    // MARK: Operations

    func test_write_read_directory_mkdir_and_rm() {
        assertOK(guest1.write("data/a/b", "hello"))
        XCTAssertEqual(guest1.read("data/a/b").text, "hello")
        XCTAssertEqual(guest1.read("/local/domain/1/data/a/b").text, "hello")
        XCTAssertEqual(guest1.read("data/a").payload, [])
        XCTAssertEqual(guest1.call(.directory, ["data/a"]).strings, ["b"])
        assertOK(guest1.call(.mkdir, ["data/a"]))   // existing: fine, left alone
        assertOK(guest1.call(.mkdir, ["data/c"]))
        XCTAssertEqual(guest1.call(.directory, ["data"]).strings, ["a", "c"])
        XCTAssertEqual(guest1.call(.directory, ["data/c"]).payload, [])
        // Binary values: everything after the path's NUL.
        assertOK(guest1.call(.write, [], raw: Array("data/bin".utf8) + [0, 1, 0, 2]))
        XCTAssertEqual(guest1.read("data/bin").payload, [1, 0, 2])
        assertOK(guest1.call(.rm, ["data/a"]))
        assertError(guest1.read("data/a/b"), "ENOENT")
        assertOK(guest1.call(.rm, ["data/a"]))      // absent, parent exists: fine
        assertError(guest1.call(.rm, ["data/nothere/x"]), "ENOENT")
        XCTAssertEqual(guest1.call(.directory, ["data"]).strings, ["c", "bin"])
        // The reply echoes req_id and tx_id.
        let r = guest1.read("data/bin")
        XCTAssertEqual(r.requestID, guest1.nextRequestID - 1)
        XCTAssertEqual(r.type, XenstoreWire.MessageType.read.rawValue)
    }

    func test_errors_are_errno_names() {
        assertError(guest1.read("data/none"), "ENOENT")
        assertError(guest1.read("data//x"), "EINVAL")
        assertError(guest1.read("data/x/"), "EINVAL")
        assertError(guest1.read("data/sp ace"), "EINVAL")
        assertError(guest1.read("@releaseDomain"), "EINVAL")
        assertError(guest1.call(.read, [], raw: Array("data".utf8)), "EINVAL")          // no NUL
        assertError(guest1.call(.read, ["data", "extra"]), "EINVAL")                     // two arguments
        assertError(guest1.call(.write, [], raw: Array("data/x".utf8)), "EINVAL")
        assertError(guest1.callRaw(99, [0]), "ENOSYS")
        assertError(guest1.callRaw(20, [0]), "ENOSYS")                                    // XS_RESTRICT, removed
        assertError(guest1.callRaw(XenstoreWire.MessageType.watchEvent.rawValue, [0]), "ENOSYS")
        assertError(guest1.call(.isDomainIntroduced, ["1"]), "EACCES")                   // privileged only
        assertError(guest1.call(.introduce, ["3", "1", "1"]), "EACCES")
        assertError(guest1.call(.rm, ["/"]), "EACCES")
        XCTAssertEqual(server.request(.rm, Array("/".utf8) + [0]).payload, Array("EINVAL".utf8) + [0])
        // A path longer than XENSTORE_REL_PATH_MAX below the domain's home.
        assertError(guest1.read("data/" + String(repeating: "a", count: 2048)), "EINVAL")
        assertError(guest1.read("data/" + String(repeating: "a", count: 2000)), "ENOENT")
    }

    func test_get_domain_path_and_is_domain_introduced() {
        XCTAssertEqual(guest1.call(.getDomainPath, ["3"]).strings, ["/local/domain/3"])
        XCTAssertEqual(guest1.call(.getDomainPath, ["x"]).strings, ["/local/domain/0"])
        assertError(guest1.call(.getDomainPath, []), "EINVAL")
        XCTAssertEqual(server.request(.isDomainIntroduced, Array("2".utf8) + [0]).payload, Array("T".utf8) + [0])
        XCTAssertEqual(server.request(.isDomainIntroduced, Array("7".utf8) + [0]).payload, Array("F".utf8) + [0])
        XCTAssertEqual(server.request(.isDomainIntroduced, Array("32752".utf8) + [0]).payload, Array("T".utf8) + [0])
    }

    func test_directory_part_continues_a_long_listing() {
        for i in 0..<5 { assertOK(guest1.write("data/child\(i)", "")) }
        let all = guest1.call(.directoryPart, ["data", "0"]).strings
        XCTAssertEqual(Array(all.dropFirst()), ["child0", "child1", "child2", "child3", "child4", ""])
        XCTAssertEqual(Array(guest1.call(.directoryPart, ["data", "7"]).strings.dropFirst()), ["child1", "child2", "child3", "child4", ""])
        XCTAssertEqual(Array(guest1.call(.directoryPart, ["data", "100"]).strings.dropFirst()), [""])
        assertError(guest1.call(.directoryPart, ["data"]), "EINVAL")
    }

    // MARK: Permissions

    func test_set_perms_shares_a_node_and_keeps_the_owner() {
        assertOK(guest2.write("data/shared", "hi"))
        assertError(guest1.read("/local/domain/2/data/shared"), "EACCES")
        assertOK(guest2.call(.setPerms, ["data/shared", "n2", "r1"]))
        XCTAssertEqual(guest2.call(.getPerms, ["data/shared"]).strings, ["n2", "r1"])
        XCTAssertEqual(guest1.read("/local/domain/2/data/shared").text, "hi")
        assertError(guest1.write("/local/domain/2/data/shared", "no"), "EACCES")
        assertOK(guest2.call(.setPerms, ["data/shared", "n2", "b1"]))
        assertOK(guest1.write("/local/domain/2/data/shared", "yes"))
        XCTAssertEqual(guest2.read("data/shared").text, "yes")
        // Only the owner may set permissions, and a guest may not give a node away.
        assertError(guest1.call(.setPerms, ["/local/domain/2/data/shared", "b1"]), "EACCES")
        assertError(guest2.call(.setPerms, ["data/shared", "n1"]), "EPERM")
        // A node guest 1 creates in guest 2's writable node is guest 1's.
        assertOK(guest1.write("/local/domain/2/data/shared/mine", "x"))
        XCTAssertEqual(guest1.call(.getPerms, ["/local/domain/2/data/shared/mine"]).strings, ["n1", "b1"])
        // Malformed lists.
        assertError(guest2.call(.setPerms, ["data/shared"]), "EINVAL")
        assertError(guest2.call(.setPerms, ["data/shared", "x2"]), "EINVAL")
        assertError(guest2.call(.setPerms, ["data/shared", "r"]), "EINVAL")
        assertError(guest2.call(.setPerms, ["data/shared", "r2x"]), "EINVAL")
        // An entry for a domain that does not exist is kept but ignored; an owner must exist.
        assertOK(guest2.call(.setPerms, ["data/shared", "n2", "r9"]))
        XCTAssertEqual(guest2.call(.getPerms, ["data/shared"]).strings, ["n2", "r9"])
        assertError(guest2.call(.setPerms, ["data/shared", "n9"]), "ENOENT")
        // strtol base 0: "0x2" is domain 2.
        assertOK(guest2.call(.setPerms, ["data/shared", "n0x2"]))
        XCTAssertEqual(guest2.call(.getPerms, ["data/shared"]).strings, ["n2"])
    }

    func test_a_hidden_node_reports_eacces_not_enoent() {
        // /local/domain/2 is n0 r2: guest 1 may not learn whether something exists there.
        assertError(guest1.read("/local/domain/2/nothing"), "EACCES")
        // Below its own readable node, absence is ENOENT.
        assertError(guest1.read("nothing"), "ENOENT")
    }

    // MARK: Watches

    func test_watch_fires_once_at_once_and_on_changes_below() {
        assertOK(guest1.call(.watch, ["data", "tok"]))
        XCTAssertEqual(guest1.events, [["data", "tok"]])
        guest1.events = []
        assertOK(guest1.write("data/a", "1"))
        XCTAssertEqual(guest1.events, [["data/a", "tok"]])
        guest1.events = []
        assertOK(guest1.call(.watch, ["/local/domain/1/data", "abs"]))
        assertOK(guest1.write("data/b", "1"))
        XCTAssertEqual(guest1.events, [["/local/domain/1/data", "abs"], ["data/b", "tok"], ["/local/domain/1/data/b", "abs"]])
        assertError(guest1.call(.watch, ["data", "tok"]), "EEXIST")
        assertError(guest1.call(.watch, ["data"]), "EINVAL")
        assertError(guest1.call(.watch, ["data//x", "t"]), "EINVAL")
        assertOK(guest1.call(.unwatch, ["data", "tok"]))
        assertError(guest1.call(.unwatch, ["data", "tok"]), "ENOENT")
        guest1.events = []
        assertOK(guest1.write("data/c", "1"))
        XCTAssertEqual(guest1.events, [["/local/domain/1/data/c", "abs"]])
    }

    func test_watches_fire_for_removed_nodes_and_their_parents() {
        assertOK(guest1.write("data/a/b/c", "1"))
        assertOK(guest1.call(.watch, ["data/a/b/c", "deep"]))
        assertOK(guest1.call(.watch, ["data/a/b/c/d", "below"]))
        assertOK(guest1.call(.watch, ["data", "top"]))
        guest1.events = []
        assertOK(guest1.call(.rm, ["data/a"]))
        // Removed children fire the watches set exactly on them; the removed node fires its own and
        // its ancestors' (xenstored's delnode_sub); nothing fires below what existed.
        XCTAssertEqual(guest1.events, [["data/a/b/c", "deep"], ["data/a", "top"]])
    }

    func test_watches_do_not_reveal_nodes_the_watcher_cannot_read() {
        assertOK(guest1.call(.watch, ["/local/domain/2/data", "peek"]))
        XCTAssertEqual(guest1.events, [["/local/domain/2/data", "peek"]])
        guest1.events = []
        assertOK(guest2.write("data/secret", "x"))
        guest1.service()
        XCTAssertEqual(guest1.events, [])
        assertOK(guest2.call(.setPerms, ["data/secret", "n2", "r1"]))
        guest1.service()
        XCTAssertEqual(guest1.events, [["/local/domain/2/data/secret", "peek"]])
    }

    func test_special_watches_are_for_domain_0_unless_it_shares_them() {
        assertOK(guest1.call(.watch, ["@releaseDomain", "rel"]))
        XCTAssertEqual(guest1.events, [["@releaseDomain", "rel"]])
        server.watch(Array("@releaseDomain".utf8), token: Array("hv".utf8))
        server.watch(Array("@introduceDomain".utf8), token: Array("hvi".utf8))
        _ = server.takeWatchEvents()
        guest1.events = []
        server.release(2)
        guest1.service()
        XCTAssertEqual(guest1.events, [])
        XCTAssertEqual(server.takeWatchEvents(), [XenstoreWatchEvent(path: Array("@releaseDomain".utf8), token: Array("hv".utf8))])
        // A guest may not change who sees them; the hypervisor may.
        assertError(guest1.call(.setPerms, ["@releaseDomain", "r1"]), "EACCES")
        XCTAssertEqual(server.request(.setPerms, Array("@releaseDomain\0n0\0r1\0".utf8)).type, .setPerms)
        server.introduceGuest(3)
        XCTAssertEqual(server.takeWatchEvents(), [XenstoreWatchEvent(path: Array("@introduceDomain".utf8), token: Array("hvi".utf8))])
        server.release(3)
        guest1.service()
        XCTAssertEqual(guest1.events, [["@releaseDomain", "rel"]])
    }

    func test_a_watcher_losing_access_still_hears_of_the_change() {
        assertOK(guest2.write("data/s", "x"))
        assertOK(guest2.call(.setPerms, ["data/s", "n2", "r1"]))
        assertOK(guest1.call(.watch, ["/local/domain/2/data/s", "w"]))
        guest1.events = []
        assertOK(guest2.call(.setPerms, ["data/s", "n2"]))
        guest1.service()
        XCTAssertEqual(guest1.events, [["/local/domain/2/data/s", "w"]])
        guest1.events = []
        assertOK(guest2.write("data/s", "y"))
        guest1.service()
        XCTAssertEqual(guest1.events, [])
    }

    func test_removal_inside_a_transaction_fires_at_commit() {
        assertOK(guest1.write("data/a/b", "1"))
        assertOK(guest1.call(.watch, ["data/a/b", "exact"]))
        assertOK(guest1.call(.watch, ["data", "top"]))
        guest1.events = []
        let tx = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        assertOK(guest1.call(.rm, ["data/a"], tx: tx))
        XCTAssertEqual(guest1.events, [])
        assertOK(guest1.call(.transactionEnd, ["T"], tx: tx))
        XCTAssertEqual(Set(guest1.events.map { $0.joined(separator: " ") }), ["data/a top", "data/a/b exact"])
        assertError(guest1.read("data/a/b"), "ENOENT")
    }

    func test_a_listing_too_long_for_one_message_is_e2big() {
        for i in 0..<200 { XCTAssertNil(server.write(Array("/tool/many/child-with-a-fairly-long-name-\(i)".utf8), value: [])) }
        XCTAssertEqual(server.request(.directory, Array("/tool/many\0".utf8)).payload, Array("E2BIG\0".utf8))
        // DIRECTORY_PART gives it in pieces.
        var names: [String] = []
        var offset = 0
        while true {
            let reply = server.request(.directoryPart, Array("/tool/many\0\(offset)\0".utf8))
            let parts = XenstoreBytes.strings(reply.payload).map { String(decoding: reply.payload[$0], as: UTF8.self) }
            let chunk = parts.dropFirst().filter { !$0.isEmpty }
            names += chunk
            offset += chunk.reduce(0) { $0 + $1.utf8.count + 1 }
            if parts.last == "" { break }
        }
        XCTAssertEqual(names.count, 200)
    }

    func test_reset_watches_drops_watches_and_transactions() {
        assertOK(guest1.call(.watch, ["data", "t"]))
        let tx = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        assertOK(guest1.call(.resetWatches, []))
        guest1.events = []
        assertOK(guest1.write("data/x", "1"))
        XCTAssertEqual(guest1.events, [])
        assertError(guest1.read("data/x", tx: tx), "ENOENT")
    }

    // MARK: Transactions

    func test_a_transaction_is_invisible_until_committed() {
        let tx = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        XCTAssertEqual(tx, 1)
        assertOK(guest1.call(.watch, ["data", "w"]))
        guest1.events = []
        assertOK(guest1.write("data/t", "in", tx: tx))
        XCTAssertEqual(guest1.read("data/t", tx: tx).text, "in")
        XCTAssertEqual(guest1.read("data/t", tx: tx).transactionID, tx)
        assertError(guest1.read("data/t"), "ENOENT")
        XCTAssertEqual(guest1.events, [])
        assertOK(guest1.call(.transactionEnd, ["T"], tx: tx))
        XCTAssertEqual(guest1.read("data/t").text, "in")
        XCTAssertEqual(guest1.events, [["data/t", "w"]])
        assertError(guest1.call(.transactionEnd, ["T"], tx: tx), "ENOENT")
    }

    func test_an_aborted_transaction_changes_nothing() {
        let tx = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        assertOK(guest1.write("data/t", "in", tx: tx))
        assertOK(guest1.call(.rm, ["data"], tx: tx))
        assertOK(guest1.call(.transactionEnd, ["F"], tx: tx))
        assertError(guest1.read("data/t"), "ENOENT")
        XCTAssertEqual(guest1.read("data").payload, [])
    }

    func test_conflicting_transactions_get_eagain() {
        assertOK(guest1.write("data/counter", "1"))
        let t1 = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        let t2 = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        XCTAssertEqual(guest1.read("data/counter", tx: t1).text, "1")
        XCTAssertEqual(guest1.read("data/counter", tx: t2).text, "1")
        assertOK(guest1.write("data/counter", "2", tx: t1))
        assertOK(guest1.write("data/counter", "3", tx: t2))
        assertOK(guest1.call(.transactionEnd, ["T"], tx: t1))
        assertError(guest1.call(.transactionEnd, ["T"], tx: t2), "EAGAIN")
        XCTAssertEqual(guest1.read("data/counter").text, "2")
        // A change outside any transaction conflicts too, and so does a removal.
        let t3 = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        _ = guest1.read("data/counter", tx: t3)
        assertOK(guest1.call(.rm, ["data/counter"]))
        assertOK(guest1.write("data/other", "x", tx: t3))
        assertError(guest1.call(.transactionEnd, ["T"], tx: t3), "EAGAIN")
        assertError(guest1.read("data/other"), "ENOENT")
        // Another domain's unrelated write does not.
        let t4 = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        assertOK(guest1.write("data/mine", "x", tx: t4))
        assertOK(guest2.write("data/theirs", "y"))
        assertOK(guest1.call(.transactionEnd, ["T"], tx: t4))
    }

    func test_transaction_errors() {
        assertError(guest1.read("data", tx: 42), "ENOENT")
        assertError(guest1.call(.transactionEnd, ["T"]), "ENOENT")
        let tx = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        assertError(guest1.call(.transactionStart, [""], tx: tx), "EBUSY")
        assertError(guest1.call(.transactionEnd, ["X"], tx: tx), "EINVAL")
        assertOK(guest1.call(.transactionEnd, ["F"], tx: tx))
    }

    // MARK: Quotas

    func test_open_transactions_are_limited() {
        server.quota.transactionsPerDomain = 2
        for _ in 0..<3 { XCTAssertFalse(guest1.call(.transactionStart, [""]).isError) }   // xenstored allows quota + 1
        assertError(guest1.call(.transactionStart, [""]), "ENOSPC")
    }

    func test_watches_are_limited() {
        server.quota.watchesPerDomain = 2
        for i in 0..<3 { assertOK(guest1.call(.watch, ["data", "t\(i)"])) }
        assertError(guest1.call(.watch, ["data", "t3"]), "E2BIG")
    }

    func test_nodes_per_domain_are_limited() {
        server.quota.nodesPerDomain = server.entries(of: 1) + 3
        assertOK(guest1.write("data/a/b/c", "1"))          // three new nodes
        assertError(guest1.write("data/d", "1"), "ENOSPC")
        assertError(guest1.call(.mkdir, ["data/d"]), "ENOSPC")
        assertOK(guest1.call(.rm, ["data/a/b"]))
        assertOK(guest1.write("data/d", "1"))
        // Domain 0 has no such limit.
        XCTAssertNil(server.write(Array("/local/domain/1/data/e".utf8), value: []))
    }

    func test_entries_too_large_are_refused() {
        assertError(guest1.write("data/big", String(repeating: "x", count: 2048)), "ENOSPC")
        assertOK(guest1.write("data/big", String(repeating: "x", count: 1900)))
        // The children list counts too: 24 bytes of header, 8 per permission, each name and its NUL.
        var created = 0
        while created < 100, !guest1.write("data/many/child-with-a-long-name-\(created + 10)", "").isError { created += 1 }
        XCTAssertEqual(created, (2048 - 24 - 8) / 26)
        assertError(guest1.write("data/many/child-with-a-long-name-99", ""), "ENOSPC")
    }

    func test_permission_lists_are_limited() {
        assertOK(guest1.write("data/p", ""))
        assertOK(guest1.call(.setPerms, ["data/p", "n1", "r2", "r2", "r2", "r2"]))
        assertError(guest1.call(.setPerms, ["data/p", "n1", "r2", "r2", "r2", "r2", "r2"]), "ENOSPC")
    }

    func test_transaction_node_quota_fails_the_transaction() {
        server.quota.nodesPerTransaction = 3
        let tx = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        _ = guest1.read("data", tx: tx)
        _ = guest1.read("name", tx: tx)
        _ = guest1.read("domid", tx: tx)
        assertError(guest1.read("vm", tx: tx), "ENOSPC")
        assertError(guest1.call(.transactionEnd, ["T"], tx: tx), "ENOMEM")
    }

    // MARK: The hypervisor's side

    func test_shutdown_request_reaches_a_guest_watching_control_shutdown() {
        assertOK(guest1.call(.watch, ["control/shutdown", "sd"]))
        guest1.events = []
        XCTAssertTrue(server.requestShutdown(1, .poweroff))
        guest1.service()
        XCTAssertEqual(guest1.events, [["control/shutdown", "sd"]])
        XCTAssertEqual(guest1.read("control/shutdown").text, "poweroff")
        // The guest acknowledges by clearing it, as Linux's orderly_poweroff path does.
        assertOK(guest1.write("control/shutdown", ""))
        XCTAssertTrue(server.requestShutdown(1, .reboot))
        XCTAssertEqual(server.text("/local/domain/1/control/shutdown"), "reboot")
        XCTAssertFalse(server.requestShutdown(9, .reboot))
    }

    func test_linux_shutdown_handshake() {
        // drivers/xen/manage.c: the guest advertises, watches, and on an event reads and clears
        // control/shutdown in a transaction; the hypervisor sees the cleared node.
        assertOK(guest1.write("control/feature-poweroff", "1"))
        assertOK(guest1.write("control/feature-reboot", "1"))
        assertOK(guest1.call(.watch, ["control/shutdown", "shutdown"]))
        server.watch(Array("/local/domain/1/control/shutdown".utf8), token: Array("hv".utf8))
        _ = server.takeWatchEvents()
        XCTAssertEqual(server.text("/local/domain/1/control/feature-poweroff"), "1")
        XCTAssertTrue(server.requestShutdown(1, .poweroff))
        XCTAssertEqual(server.takeWatchEvents().count, 1)
        guest1.service()
        XCTAssertEqual(guest1.events.last, ["control/shutdown", "shutdown"])
        let tx = UInt32(guest1.call(.transactionStart, [""]).strings[0])!
        XCTAssertEqual(guest1.read("control/shutdown", tx: tx).text, "poweroff")
        assertOK(guest1.write("control/shutdown", "", tx: tx))
        assertOK(guest1.call(.transactionEnd, ["T"], tx: tx))
        XCTAssertEqual(server.text("/local/domain/1/control/shutdown"), "")
        XCTAssertEqual(server.takeWatchEvents().count, 1)   // the guest's answer
        // An event still queued is not queued twice (xenstored's send_event).
        XCTAssertTrue(server.requestShutdown(1, .reboot))
        XCTAssertTrue(server.requestShutdown(1, .poweroff))
        XCTAssertEqual(server.takeWatchEvents().count, 1)
    }

    func test_the_hypervisor_is_told_when_a_watched_node_changes() {
        server.watch(Array("/local/domain/1/data".utf8), token: Array("t".utf8))
        XCTAssertEqual(server.takeWatchEvents().count, 1)
        assertOK(guest1.write("data/state", "4"))
        XCTAssertEqual(server.takeWatchEvents(), [XenstoreWatchEvent(path: Array("/local/domain/1/data/state".utf8), token: Array("t".utf8))])
        XCTAssertEqual(server.takeWatchEvents(), [])
    }

    func test_releasing_a_domain_removes_its_nodes_and_watches() {
        server.watch(Array("/local/domain/2/control".utf8), token: Array("c".utf8))
        _ = server.takeWatchEvents()
        assertOK(guest2.call(.watch, ["data", "w"]))
        assertOK(guest1.write("data/shared", ""))
        assertOK(guest1.call(.setPerms, ["data/shared", "n1", "b2"]))
        assertOK(guest2.write("/local/domain/1/data/shared/by2", "x"))
        server.release(2)
        XCTAssertNil(server.value(at: Array("/local/domain/2".utf8)))
        XCTAssertNil(server.value(at: Array("/vm/02020202-0202-0202-0202-020202020202".utf8)))
        XCTAssertNil(server.value(at: Array("/libxl/2".utf8)))
        XCTAssertFalse(server.isIntroduced(2))
        let events = server.takeWatchEvents().map { String(decoding: $0.path, as: UTF8.self) }
        XCTAssertEqual(events, ["/local/domain/2/control"])
        // What it owned elsewhere is domain 0's, its permission entries are inert.
        XCTAssertEqual(guest1.call(.getPerms, ["data/shared"]).strings, ["n1", "b2"])
        XCTAssertEqual(server.request(.getPerms, Array("/local/domain/1/data/shared/by2\0".utf8)).payload, Array("n0\0b2\0".utf8))
        // A new domain 2 inherits nothing.
        server.introduceGuest(2)
        let again = XenstoreGuest(server, domid: 2)
        assertError(again.read("/local/domain/1/data/shared"), "EACCES")
        XCTAssertEqual(again.read("name").text, "guest2")
    }
}
