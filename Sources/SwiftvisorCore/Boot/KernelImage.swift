/// A guest kernel as the boot contract (docs/guest-boot.md) accepts it: an ELF64 AArch64
/// executable, or a raw arm64 Linux Image (Documentation/arch/arm64/booting.rst).
public enum KernelImage: Equatable {
    /// PT_LOAD segments are copied to their physical addresses (IPAs); entry at e_entry.
    case elf(entry: UInt64, segments: [LoadSegment])
    /// Loaded at RAM base + text_offset; entry at its first byte.
    case linuxImage(textOffset: UInt64, imageSize: UInt64)

    public struct LoadSegment: Equatable {
        public var fileOffset: UInt64
        public var fileSize: UInt64
        public var memorySize: UInt64
        public var physicalAddress: UInt64
    }

    public enum ParseError: Error, Equatable {
        case tooSmall
        case notAArch64ELF(machine: UInt16)
        case notELF64
        case notLittleEndian
        case notExecutable
        case noLoadableSegments
        case segmentBeyondFile
        case unrecognisedFormat

        /// Why, in words, for messages (completes "FILE ...").
        public var reason: String {
            switch self {
            case .tooSmall: return "is shorter than 64 bytes, too short for an ELF or arm64 Image header"
            case .notAArch64ELF(let machine):
                let name = KernelImage.elfMachineNames.first { $0.0 == machine }?.1 ?? "another architecture"
                return "is an ELF file for \(name) (machine \(machine)), not AArch64 (machine 183)"
            case .notELF64: return "is a 32-bit ELF file; swiftvisor runs 64-bit (ELFCLASS64) AArch64 kernels"
            case .notLittleEndian: return "is a big-endian ELF file; swiftvisor runs little-endian AArch64 kernels"
            case .notExecutable: return "is an ELF file but not an executable (e_type is not ET_EXEC); link it as an executable"
            case .noLoadableSegments: return "is an ELF executable with no loadable (PT_LOAD) segments"
            case .segmentBeyondFile: return "is a damaged ELF file: a program header or segment lies beyond the end of the file"
            case .unrecognisedFormat: return "is neither an ELF file nor an arm64 Linux Image (no \\x7fELF magic, no ARM\\x64 magic at offset 56)"
            }
        }
    }

    public enum PlacementError: Error, Equatable {
        /// A segment or the image does not fit in the guest's RAM.
        case outsideRAM(ipa: UInt64, size: UInt64)
        case entryOutsideImage(entry: UInt64)

        /// Why, in words, for messages.
        public var reason: String {
            switch self {
            case .outsideRAM(let ipa, let size):
                return "it needs 0x\(String(ipa, radix: 16))...0x\(String(ipa &+ size, radix: 16)), outside the guest's RAM"
            case .entryOutsideImage(let entry):
                return "its entry point 0x\(String(entry, radix: 16)) lies in none of its loadable segments"
            }
        }
    }

    static let elfMachineNames: [(UInt16, String)] = [
        (3, "x86 (32-bit)"), (8, "MIPS"), (20, "PowerPC"), (21, "PowerPC 64"), (40, "32-bit Arm"),
        (62, "x86-64"), (183, "AArch64"), (243, "RISC-V"), (258, "LoongArch"),
    ]

    static let elfMagic: UInt32 = 0x464C_457F        // "\x7fELF"
    static let arm64ImageMagic: UInt32 = 0x644D_5241 // "ARM\x64" at offset 56
    static let machineAArch64: UInt16 = 183

    public static func parse(_ b: UnsafeRawBufferPointer) throws(ParseError) -> KernelImage {
        guard b.count >= 64 else { throw .tooSmall }
        if b.le32(0) == elfMagic { return try parseELF(b) }
        if b.le32(56) == arm64ImageMagic {
            var textOffset = b.le64(8), imageSize = b.le64(16)
            // image_size 0 means a pre-3.17 kernel: text_offset is then 0x80000 (booting.rst).
            if imageSize == 0 { textOffset = 0x80000; imageSize = UInt64(b.count) }
            return .linuxImage(textOffset: textOffset, imageSize: max(imageSize, UInt64(b.count)))
        }
        throw .unrecognisedFormat
    }

    static func parseELF(_ b: UnsafeRawBufferPointer) throws(ParseError) -> KernelImage {
        guard b[4] == 2 else { throw .notELF64 }          // EI_CLASS = ELFCLASS64
        guard b[5] == 1 else { throw .notLittleEndian }   // EI_DATA = ELFDATA2LSB
        let machine = b.le16(18)
        guard machine == machineAArch64 else { throw .notAArch64ELF(machine: machine) }
        guard b.le16(16) == 2 else { throw .notExecutable } // ET_EXEC
        let entry = b.le64(24), phoff = Int(b.le64(32))
        let phentsize = Int(b.le16(54)), phnum = Int(b.le16(56))
        guard phentsize >= 56, phoff + phnum * phentsize <= b.count else { throw .segmentBeyondFile }
        var segments: [LoadSegment] = []
        for i in 0..<phnum {
            let p = phoff + i * phentsize
            guard b.le32(p) == 1 else { continue }         // PT_LOAD
            let s = LoadSegment(fileOffset: b.le64(p + 8), fileSize: b.le64(p + 32),
                                memorySize: b.le64(p + 40), physicalAddress: b.le64(p + 24))
            guard s.fileOffset <= UInt64(b.count), s.fileSize <= UInt64(b.count) - s.fileOffset,
                  s.fileSize <= s.memorySize else { throw .segmentBeyondFile }
            if s.memorySize > 0 { segments.append(s) }
        }
        guard !segments.isEmpty else { throw .noLoadableSegments }
        return .elf(entry: entry, segments: segments)
    }

    /// Where each piece goes in a guest whose RAM is `ram`, and the entry point; checks that
    /// everything lands inside RAM.
    public func placement(in ram: AddressRange<GuestPhysicalAddress>) throws(PlacementError)
        -> (copies: [LoadSegment], entry: GuestPhysicalAddress, end: GuestPhysicalAddress) {
        switch self {
        case .elf(let entry, let segments):
            var end = ram.base
            var entryInside = false
            for s in segments {
                let at = GuestPhysicalAddress(s.physicalAddress)
                guard ram.contains(at, length: s.memorySize) else { throw .outsideRAM(ipa: s.physicalAddress, size: s.memorySize) }
                if entry >= s.physicalAddress && entry - s.physicalAddress < s.memorySize { entryInside = true }
                end = max(end, at + s.memorySize)
            }
            guard entryInside else { throw .entryOutsideImage(entry: entry) }
            return (segments, GuestPhysicalAddress(entry), end)
        case .linuxImage(let textOffset, let imageSize):
            let at = ram.base + textOffset
            guard ram.contains(at, length: imageSize) else { throw .outsideRAM(ipa: at.rawValue, size: imageSize) }
            let copy = LoadSegment(fileOffset: 0, fileSize: imageSize, memorySize: imageSize, physicalAddress: at.rawValue)
            return ([copy], at, at + imageSize)
        }
    }
}
