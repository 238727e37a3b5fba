import XCTest
@testable import SwiftvisorCore

/// xen_version answers a domU as Xen 4.17 does (xen/common/kernel.c, xsm/dummy.h).
final class XenVersionTests: XCTestCase {
    func decode(_ x0: UInt64, _ x1: UInt64 = 0) -> Result<XenHypercall, XenABI.Errno> {
        XenHypercall.decode(number: 17, x0: x0, x1: x1, x2: 0)
    }

    func string(_ bytes: [UInt8]) -> String { String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }

    func test_version_is_4_17() {
        XCTAssertEqual(XenABI.version, 0x4_0011)
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0xEA1, x16: 17, x0: 0, x1: 0), 0x4_0011)
    }

    func test_every_sub_op_decodes_with_its_buffer() {
        let copies: [(UInt64, XenABI.VersionCommand)] = [(1, .extraVersion), (2, .compileInfo), (3, .capabilities), (4, .changeset),
                                                         (5, .platformParameters), (8, .guestHandle), (9, .commandline)]
        for (number, command) in copies {
            XCTAssertEqual(decode(number, 0x4000_2000), .success(.versionReply(command, buffer: 0x4000_2000)), "\(number)")
        }
        XCTAssertEqual(decode(6, 0x4000_3000), .success(.features(buffer: 0x4000_3000)))
        XCTAssertEqual(decode(7), .success(.pageSize))
        XCTAssertEqual(decode(11), .failure(.enosys))
        XCTAssertEqual(decode(0x1_0000_0000), .failure(.enosys))
    }

    func test_pagesize_refuses_a_buffer_and_build_id_is_denied() {
        XCTAssertEqual(decode(7, 0x1000), .failure(.einval))
        XCTAssertEqual(decode(10), .failure(.eperm))
        XCTAssertEqual(decode(10, 0x4000_0000), .failure(.eperm))
        // The fast path gives the same answers.
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0xEA1, x16: 17, x0: 7, x1: 0), 4096)
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0xEA1, x16: 17, x0: 7, x1: 0x1000), XenABI.Errno.einval.returnValue)
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0xEA1, x16: 17, x0: 10, x1: 0), UInt64(bitPattern: -1))
        XCTAssertEqual(StatelessHypercall.answer(immediate: 0xEA1, x16: 17, x0: 11, x1: 0), UInt64(bitPattern: -38))
        for copying in [1, 2, 3, 4, 5, 6, 8, 9] as [UInt64] {
            XCTAssertNil(StatelessHypercall.answer(immediate: 0xEA1, x16: 17, x0: copying, x1: 0x1000), "\(copying)")
        }
    }

    func test_copy_out_sizes_are_those_of_the_public_header() {
        let handle = [UInt8](repeating: 0xAB, count: 16)
        let sizes: [(XenABI.VersionCommand, Int)] = [(.extraVersion, 16), (.compileInfo, 64 + 16 + 32 + 32), (.capabilities, 1024),
                                                     (.changeset, 64), (.platformParameters, 8), (.guestHandle, 16),
                                                     (.commandline, 9)]
        for (command, size) in sizes {
            XCTAssertEqual(XenVersion.reply(to: command, handle: handle)?.count, size, "\(command)")
        }
        for none in [XenABI.VersionCommand.version, .getFeatures, .pageSize, .buildID] {
            XCTAssertNil(XenVersion.reply(to: none, handle: handle))
        }
    }

    func test_strings_a_domU_reads() {
        let h = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(string(XenVersion.reply(to: .extraVersion, handle: h)!), "-swiftvisor")
        XCTAssertEqual(string(XenVersion.reply(to: .capabilities, handle: h)!), "xen-3.0-aarch64 ")
        XCTAssertEqual(string(XenVersion.reply(to: .changeset, handle: h)!), "unavailable")
        let commandline = XenVersion.reply(to: .commandline, handle: h)!
        XCTAssertEqual(commandline, Array("<denied>".utf8) + [0])
        let info = XenVersion.reply(to: .compileInfo, handle: h)!
        XCTAssertEqual(string(Array(info[0..<64])), "Embedded Swift")
        XCTAssertEqual(string(Array(info[64..<80])), "swiftvisor")
        XCTAssertTrue(info[80...].allSatisfy { $0 == 0 })
        // Every string is NUL-terminated within its field.
        XCTAssertEqual(XenVersion.text("0123456789abcdefXYZ", size: 16), Array("0123456789abcde".utf8) + [0])
    }

    func test_platform_parameters_and_guest_handle() {
        let uuid: [UInt8] = Array(0..<16)
        XCTAssertEqual(XenVersion.reply(to: .platformParameters, handle: uuid), [0, 0, 0x20, 0, 0, 0, 0, 0])
        XCTAssertEqual(XenVersion.reply(to: .guestHandle, handle: uuid), uuid)
    }

    func test_features_of_an_arm_domU() {
        // writable_page_tables | auto_translated_physmap | memory_op_vnode_supported | ARM_SMCCC_supported | not_direct_mapped
        XCTAssertEqual(XenVersion.features(submapIndex: 0), .success(1 << 0 | 1 << 2 | 1 << 13 | 1 << 14 | 1 << 16))
        XCTAssertEqual(XenVersion.features(submapIndex: 1), .failure(.einval))
        XCTAssertEqual(XenVersion.features(submapIndex: 0xFFFF_FFFF), .failure(.einval))
    }
}
