import Foundation

/// The hypervisor image relocates itself (entry.S): it can only apply R_AARCH64_RELATIVE,
/// with the MMU off, to 8-byte aligned words. This reads the linked ELF's `.rela.dyn` and
/// fails the build on anything else, so a new kind of relocation (an absolute symbol
/// reference the linker could not turn into a relative one) is found at build time, not as a
/// hang at boot.
public enum RelocationCheck {
    public static let relative: UInt32 = 1027   // R_AARCH64_RELATIVE (ELF for the Arm 64-bit Architecture)

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every entry of `.rela.dyn` in an ELF64 little-endian file as (offset, type).
    /// Throws if the file is not such an ELF or has no `.rela.dyn` section.
    public static func relocations(elf bytes: [UInt8]) throws -> [(offset: UInt64, type: UInt32)] {
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
        guard bytes.count >= 64, bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46], bytes[4] == 2, bytes[5] == 1 else {
            throw Problem(description: "not an ELF64 little-endian file")
        }
        let shoff = Int(u64(0x28)), shentsize = u16(0x3A), shnum = u16(0x3C), shstrndx = u16(0x3E)
        guard shentsize == 64, shoff + shnum * 64 <= bytes.count, shstrndx < shnum else {
            throw Problem(description: "damaged section header table")
        }
        let names = Int(u64(shoff + shstrndx * 64 + 0x18))
        func name(_ offset: Int) -> String {
            var end = names + offset
            while end < bytes.count && bytes[end] != 0 { end += 1 }
            return String(decoding: bytes[(names + offset)..<end], as: UTF8.self)
        }
        for i in 0..<shnum {
            let h = shoff + i * 64
            guard name(Int(u32(h))) == ".rela.dyn" else { continue }
            let offset = Int(u64(h + 0x18)), size = Int(u64(h + 0x20))
            guard offset + size <= bytes.count, size % 24 == 0 else { throw Problem(description: "damaged .rela.dyn") }
            return stride(from: offset, to: offset + size, by: 24).map { (u64($0), UInt32(truncatingIfNeeded: u64($0 + 8))) }
        }
        throw Problem(description: "no .rela.dyn section (was it linked with -pie?)")
    }

    /// Throws a Problem naming each relocation entry.S could not apply.
    public static func check(elf: URL) throws {
        let entries = try relocations(elf: [UInt8](try Data(contentsOf: elf)))
        var wrong: [String] = []
        for e in entries where e.type != relative || e.offset % 8 != 0 {
            wrong.append("type \(e.type) at 0x\(String(e.offset, radix: 16))" + (e.offset % 8 != 0 ? " (unaligned)" : ""))
        }
        guard wrong.isEmpty else {
            throw Problem(description: "\(elf.lastPathComponent): \(wrong.count) relocation(s) the image cannot apply to itself "
                          + "(only 8-byte aligned R_AARCH64_RELATIVE): \(wrong.prefix(5).joined(separator: ", "))")
        }
    }
}
