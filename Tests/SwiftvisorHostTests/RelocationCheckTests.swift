import Foundation
import XCTest
@testable import SwiftvisorHost

/// The build refuses a hypervisor image whose .rela.dyn holds anything entry.S cannot apply.
final class RelocationCheckTests: XCTestCase {
    /// A minimal ELF64: a header, .shstrtab and .rela.dyn holding `entries` (offset, type).
    func elf(_ entries: [(UInt64, UInt32)]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 64)
        func put(_ v: UInt64, _ n: Int, at: Int) { for i in 0..<n { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        b[0..<6] = [0x7F, 0x45, 0x4C, 0x46, 2, 1]
        let names = Array("\0.shstrtab\0.rela.dyn\0".utf8)
        let namesOffset = b.count; b += names
        let relaOffset = b.count
        for (offset, type) in entries {
            var e = [UInt8](repeating: 0, count: 24)
            for i in 0..<8 { e[i] = UInt8(truncatingIfNeeded: offset >> (8 * i)) }
            for i in 0..<4 { e[8 + i] = UInt8(truncatingIfNeeded: type >> (8 * i)) }
            b += e
        }
        let shoff = b.count
        b += [UInt8](repeating: 0, count: 3 * 64)
        put(UInt64(shoff), 8, at: 0x28); put(64, 2, at: 0x3A); put(3, 2, at: 0x3C); put(1, 2, at: 0x3E)
        put(1, 4, at: shoff + 64); put(UInt64(namesOffset), 8, at: shoff + 64 + 0x18); put(UInt64(names.count), 8, at: shoff + 64 + 0x20)
        put(11, 4, at: shoff + 128); put(UInt64(relaOffset), 8, at: shoff + 128 + 0x18); put(UInt64(entries.count * 24), 8, at: shoff + 128 + 0x20)
        return b
    }

    func check(_ entries: [(UInt64, UInt32)]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("reloc-\(UUID().uuidString).elf")
        try Data(elf(entries)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try RelocationCheck.check(elf: file)
    }

    func test_aligned_relative_relocations_pass() throws {
        XCTAssertEqual(try RelocationCheck.relocations(elf: elf([(0x100, 1027), (0x2008, 1027)])).map(\.offset), [0x100, 0x2008])
        XCTAssertNoThrow(try check([(0x100, 1027), (0x2008, 1027)]))
    }

    func test_any_other_kind_fails_the_build() {
        XCTAssertThrowsError(try check([(0x100, 1027), (0x108, 257)])) { XCTAssertTrue("\($0)".contains("type 257 at 0x108"), "\($0)") }
    }

    func test_an_unaligned_target_fails_the_build() {
        XCTAssertThrowsError(try check([(0x104 + 2, 1027)])) { XCTAssertTrue("\($0)".contains("unaligned"), "\($0)") }
    }

    func test_the_trampoline_is_an_arm64_image_that_jumps_to_its_target() {
        let t = BootTrampoline.image(jumpingTo: 0x6000_0000)
        XCTAssertEqual(t.count, 80)
        XCTAssertEqual(Array(t[56..<60]), Array("ARM\u{64}".utf8))
        XCTAssertEqual(t[8..<16].reversed().reduce(0) { $0 << 8 | UInt64($1) }, 0x8_0000, "text_offset")
        XCTAssertEqual(t[72..<80].reversed().reduce(0) { $0 << 8 | UInt64($1) }, 0x6000_0000, "the ldr literal")
    }

    func test_load_addresses_qemu_virt_cannot_honour() {
        XCTAssertNil(BootLayout.loadAddressProblem(0x4020_0000, imageSize: 9 << 20))
        XCTAssertNil(BootLayout.loadAddressProblem(0x4820_0000, imageSize: 9 << 20))
        XCTAssertNotNil(BootLayout.loadAddressProblem(0x4010_0000, imageSize: 9 << 20))
        XCTAssertNotNil(BootLayout.loadAddressProblem(0x4000_0000, imageSize: 9 << 20))
        XCTAssertNotNil(BootLayout.loadAddressProblem(0x4780_0000, imageSize: 9 << 20), "runs into the DTB at +128 MiB")
    }
}
