import XCTest
@testable import SwiftvisorCore

/// Path and permission-string rules, as xenstored's is_valid_nodename and xs_strings_to_perms.
final class XenstorePathTests: XCTestCase {
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func test_valid_node_names() {
        for good in ["/", "/a", "/local/domain/1/data/x-y_z@1", "/A/b0"] { XCTAssertTrue(XenstorePath.isValidNodeName(b(good)), good) }
        for bad in ["", "a", "/a/", "//", "/a//b", "/a b", "/a.b", "/a\u{e9}"] { XCTAssertFalse(XenstorePath.isValidNodeName(b(bad)), bad) }
        // The length limit counts beyond "/local/domain/N/" (at most five digits of N).
        XCTAssertTrue(XenstorePath.isValidNodeName(b("/local/domain/12345/" + String(repeating: "a", count: 2048))))
        XCTAssertFalse(XenstorePath.isValidNodeName(b("/local/domain/12345/" + String(repeating: "a", count: 2049))))
        XCTAssertFalse(XenstorePath.isValidNodeName(b("/local/domain/123456/" + String(repeating: "a", count: 2040))))
        XCTAssertFalse(XenstorePath.isValidNodeName(b("/" + String(repeating: "a", count: 2048))))
    }

    func test_parents_children_and_ancestry() {
        XCTAssertEqual(XenstorePath.parent(b("/a/b")), b("/a"))
        XCTAssertEqual(XenstorePath.parent(b("/a")), b("/"))
        XCTAssertEqual(XenstorePath.basename(b("/a/bc")), b("bc"))
        XCTAssertEqual(XenstorePath.child(b("/"), b("a")), b("/a"))
        XCTAssertTrue(XenstorePath.isWithin(b("/a/b"), b("/a")))
        XCTAssertTrue(XenstorePath.isWithin(b("/a"), b("/a")))
        XCTAssertFalse(XenstorePath.isWithin(b("/ab"), b("/a")))
        XCTAssertTrue(XenstorePath.isWithin(b("/ab"), b("/")))
        XCTAssertEqual(XenstorePath.canonical(b("data"), domid: 3), b("/local/domain/3/data"))
        XCTAssertEqual(XenstorePath.canonical(b("@x"), domid: 3), b("@x"))
    }

    func test_permission_strings() {
        func parse(_ s: String) -> XenstorePermission? { XenstorePermission(parsing: b(s)[...]) }
        XCTAssertEqual(parse("r5"), .read(5))
        XCTAssertEqual(parse("b0"), .both(0))
        XCTAssertEqual(parse("w010"), .write(8))          // strtol base 0: octal
        XCTAssertEqual(parse("n0x1f"), .none(31))         // hex
        XCTAssertEqual(parse("r-1"), .read(-1))
        XCTAssertEqual(parse("n0"), .none(0))
        for bad in ["", "r", "x1", "r1x", "r0x", "R1"] { XCTAssertNil(parse(bad), bad) }
        XCTAssertEqual(XenstorePermission.read(-1).bytes, b("r-1"))
        XCTAssertEqual([XenstorePermission.none(0), .both(7)].wireBytes, b("n0\0b7\0"))
        let ignored = XenstorePermission(domid: 4, access: XenstorePermission.Access.read.union(.ignore))
        XCTAssertEqual(ignored.bytes, b("r4"))
    }

    func test_access_decisions() {
        let perms: [XenstorePermission] = [.read(1), .write(2), .none(3)]
        XCTAssertEqual(perms.access(for: 1, privileged: false), .all)             // owner
        XCTAssertEqual(perms.access(for: 2, privileged: false), .write)
        XCTAssertEqual(perms.access(for: 3, privileged: false), .none)
        XCTAssertEqual(perms.access(for: 4, privileged: false), .read)            // the owner entry's default
        XCTAssertEqual(perms.access(for: 0, privileged: true), .all)
        let inert: [XenstorePermission] = [.none(1), XenstorePermission(domid: 2, access: XenstorePermission.Access.both.union(.ignore))]
        XCTAssertEqual(inert.access(for: 2, privileged: false), .none)
    }

    func test_atoi_and_decimal() {
        XCTAssertEqual(XenstoreBytes.atoi(b(" 42x")[...]), 42)
        XCTAssertEqual(XenstoreBytes.atoi(b("-3")[...]), -3)
        XCTAssertEqual(XenstoreBytes.atoi(b("")[...]), 0)
        XCTAssertEqual(XenstoreBytes.decimal(0), b("0"))
        XCTAssertEqual(XenstoreBytes.decimal(4294967295), b("4294967295"))
        XCTAssertEqual(XenstoreBytes.signedDecimal(-12), b("-12"))
    }
}
