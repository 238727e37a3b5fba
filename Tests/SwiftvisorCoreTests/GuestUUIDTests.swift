import XCTest
@testable import SwiftvisorCore

final class GuestUUIDTests: XCTestCase {
    func test_the_xl_cfg_form_parses_in_either_case() {
        let u = GuestUUID("00112233-4455-6677-8899-AaBbCcDdEeFf")
        XCTAssertEqual(u?.bytes, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        XCTAssertEqual(u?.text, "00112233-4455-6677-8899-aabbccddeeff")
    }

    func test_anything_else_is_refused() {
        for bad in ["", "00112233445566778899aabbccddeeff", "00112233-4455-6677-8899-aabbccddeef",
                    "00112233-4455-6677-8899-aabbccddeeffa", "0011223-34455-6677-8899-aabbccddeeff",
                    "00112233-4455-6677-8899-aabbccddeefg", "{0112233-4455-6677-8899-aabbccddeeff"] {
            XCTAssertNil(GuestUUID(bad), bad)
        }
        XCTAssertNil(GuestUUID(bytes: [1, 2, 3]))
    }

    func test_version_4_sets_version_and_variant_bits() {
        let u = GuestUUID.version4(random: [UInt8](repeating: 0xFF, count: 16))!
        XCTAssertEqual(u.text, "ffffffff-ffff-4fff-bfff-ffffffffffff")
        let z = GuestUUID.version4(random: [UInt8](repeating: 0, count: 16))!
        XCTAssertEqual(z.text, "00000000-0000-4000-8000-000000000000")
        XCTAssertNil(GuestUUID.version4(random: [0]))
    }

    func test_the_boot_manifest_carries_the_uuid() throws {
        let uuid: [UInt8] = Array(1...16)
        let m = BootManifest(guests: [.init(name: "a", kernel: .init(base: HostPhysicalAddress(0x4800_0000), size: 0x1000),
                                            memoryBytes: 16 << 20, vcpus: 1, commandLine: "console=hvc0", uuid: uuid)])
        let bytes = m.encoded
        XCTAssertEqual(String(decoding: bytes.prefix(8), as: UTF8.self), "SVMANIF4")
        let back = try bytes.withUnsafeBytes { try BootManifest(bytes: $0) }
        XCTAssertEqual(back, m)
        XCTAssertEqual(back.guests[0].uuid, uuid)
        XCTAssertEqual(back.guests[0].commandLine, "console=hvc0")
    }
}
