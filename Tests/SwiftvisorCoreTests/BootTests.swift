import XCTest
@testable import SwiftvisorCore

/// A minimal ELF64 executable header with one PT_LOAD.
func makeELF(machine: UInt16 = 183, entry: UInt64 = 0x4008_0000, paddr: UInt64 = 0x4008_0000, memsz: UInt64 = 0x2000) -> [UInt8] {
    var b: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
    b.appendLE(2, size: 2); b.appendLE(UInt64(machine), size: 2); b.appendLE(1, size: 4)
    b.appendLE(entry, size: 8); b.appendLE(64, size: 8); b.appendLE(0, size: 8)
    b.appendLE(0, size: 4); b.appendLE(64, size: 2); b.appendLE(56, size: 2); b.appendLE(1, size: 2)
    b.appendLE(0, size: 2); b.appendLE(0, size: 2); b.appendLE(0, size: 2)
    // Program header: PT_LOAD, flags, offset, vaddr, paddr, filesz, memsz, align.
    b.appendLE(1, size: 4); b.appendLE(5, size: 4); b.appendLE(0, size: 8); b.appendLE(paddr, size: 8)
    b.appendLE(paddr, size: 8); b.appendLE(120, size: 8); b.appendLE(memsz, size: 8); b.appendLE(0x1000, size: 8)
    return b
}

final class BootTests: XCTestCase {
    let ram = AddressRange(base: GuestPhysicalAddress(0x4000_0000), size: 16 << 20)

    func test_elf_is_placed_at_its_physical_addresses() throws {
        let elf = makeELF()
        let image = try elf.withUnsafeBytes { try KernelImage.parse($0) }
        let p = try image.placement(in: ram)
        XCTAssertEqual(p.entry, GuestPhysicalAddress(0x4008_0000))
        XCTAssertEqual(p.copies.first?.fileSize, 120)
        XCTAssertEqual(p.end, GuestPhysicalAddress(0x4008_2000))
    }

    func test_elf_for_another_machine_is_refused() {
        let elf = makeELF(machine: 62)   // x86-64
        XCTAssertThrowsError(try elf.withUnsafeBytes { try KernelImage.parse($0) }) {
            XCTAssertEqual($0 as? KernelImage.ParseError, .notAArch64ELF(machine: 62))
        }
    }

    func test_elf_outside_guest_ram_is_refused() throws {
        let image = try makeELF(paddr: 0x8000_0000).withUnsafeBytes { try KernelImage.parse($0) }
        XCTAssertThrowsError(try image.placement(in: ram))
        let big = try makeELF(memsz: 32 << 20).withUnsafeBytes { try KernelImage.parse($0) }
        XCTAssertThrowsError(try big.placement(in: ram)) { XCTAssertEqual($0 as? KernelImage.PlacementError, .outsideRAM(ipa: 0x4008_0000, size: 32 << 20)) }
    }

    func test_arm64_image_goes_to_text_offset() throws {
        var header = [UInt8](repeating: 0, count: 64)
        header.replaceSubrange(8..<16, with: [0, 0, 8, 0, 0, 0, 0, 0])       // text_offset 0x80000
        header.replaceSubrange(16..<24, with: [0, 0, 0x10, 0, 0, 0, 0, 0])    // image_size 1 MiB
        header.replaceSubrange(56..<60, with: Array("ARM\u{64}".utf8))
        let image = try header.withUnsafeBytes { try KernelImage.parse($0) }
        XCTAssertEqual(image, .linuxImage(textOffset: 0x80000, imageSize: 0x10_0000))
        XCTAssertEqual(try image.placement(in: ram).entry, GuestPhysicalAddress(0x4008_0000))
    }

    func test_random_bytes_are_not_a_kernel() {
        XCTAssertThrowsError(try [UInt8](repeating: 7, count: 128).withUnsafeBytes { try KernelImage.parse($0) }) {
            XCTAssertEqual($0 as? KernelImage.ParseError, .unrecognisedFormat)
        }
    }

    func test_manifest_round_trips() throws {
        let m = BootManifest(guests: [
            .init(name: "alpha", kernel: .init(base: HostPhysicalAddress(0x5020_0000), size: 0x1234), memoryBytes: 16 << 20,
                  vcpus: 1, commandLine: "hello"),
            .init(name: "beta", kernel: .init(base: HostPhysicalAddress(0x5040_0000), size: 10),
                  ramdisk: .init(base: HostPhysicalAddress(0x5060_0000), size: 99), memoryBytes: 32 << 20, vcpus: 2, commandLine: ""),
        ])
        let bytes = m.encoded
        try bytes.withUnsafeBytes { b in
            XCTAssertEqual(BootManifest.size(header: b), bytes.count)
            XCTAssertEqual(try BootManifest(bytes: b), m)
        }
        let rejected: Bool = [UInt8](repeating: 0, count: 32).withUnsafeBytes { b in
            do { _ = try BootManifest(bytes: b); return false } catch { return true }
        }
        XCTAssertTrue(rejected)
    }

    func test_allocator_skips_reserved_ranges() {
        var a = PhysicalRangeAllocator(ram: [.init(base: HostPhysicalAddress(0x4000_0000), size: 64 << 20)])
        a.reserve(.init(base: HostPhysicalAddress(0x4000_0000), size: 0x30_0000))   // image
        a.reserve(.init(base: HostPhysicalAddress(0x4080_0000), size: 0x1000))      // a DTB
        XCTAssertEqual(a.allocate(size: 2 << 20, alignment: 2 << 20), HostPhysicalAddress(0x4040_0000))
        XCTAssertEqual(a.allocate(size: 0x1000, alignment: 0x1000), HostPhysicalAddress(0x4030_0000))
        XCTAssertEqual(a.allocate(size: 2 << 20, alignment: 2 << 20), HostPhysicalAddress(0x4060_0000), "fits exactly below the DTB")
        XCTAssertNil(a.allocate(size: 1 << 30, alignment: 0x1000))
    }
}

final class CPIOArchiveTests: XCTestCase {
    func test_newc_entries_are_padded_and_terminated() {
        var a = CPIOArchive()
        a.add("init", .file(Array("#!/bin/sh\n".utf8), executable: true))
        a.add("dev/console", .characterDevice(major: 5, minor: 1))
        let bytes = a.finish()
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("070701" + "00000001" + "000081ED"), "magic, inode 1, mode 0100755")
        XCTAssertEqual(Array(bytes[54..<62]), Array("0000000A".utf8), "file size 10")
        XCTAssertEqual(String(decoding: bytes[110..<115], as: UTF8.self), "init\u{0}")
        XCTAssertTrue(text.contains("dev/console"))
        XCTAssertTrue(text.contains("00000005" + "00000001" + "0000000C"), "rdevmajor 5, rdevminor 1, namesize 12")
        XCTAssertTrue(text.contains("TRAILER!!!"))
        XCTAssertEqual(bytes.count % 4, 0)
    }
}
