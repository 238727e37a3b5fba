import Foundation

/// An 80-byte arm64 Image that jumps to another address, x0 (the DTB) untouched: what a boot
/// loader such as U-Boot's `booti` does after placing an Image at an address of its choice.
/// QEMU's `-kernel` puts an Image at RAM base + text_offset; handing it this (text_offset
/// 0x8_0000) and loading the hypervisor with `-device loader` starts the hypervisor wherever
/// we want, still entered at EL2 with x0 = DTB.
public enum BootTrampoline {
    public static let textOffset: UInt64 = 0x8_0000

    public static func image(jumpingTo target: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        func word(_ w: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * i))) } }
        func quad(_ q: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: q >> (8 * i))) } }
        // arm64 Image header (Linux Documentation/arch/arm64/booting.rst).
        word(0x1400_0010)          // code0: b +64, past the header
        word(0)                    // code1
        quad(textOffset)           // text_offset
        quad(80)                   // image_size
        quad(0x2)                  // flags: little-endian, 4 KiB pages
        quad(0); quad(0); quad(0)  // res2-4
        word(0x644D_5241)          // magic "ARM\x64"
        word(0)                    // res5
        word(0x5800_0050)          // ldr x16, target (pc + 8)
        word(0xD61F_0200)          // br x16
        quad(target)               // target
        return bytes
    }
}
