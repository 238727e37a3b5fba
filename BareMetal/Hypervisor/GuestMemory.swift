import CArch
import SwiftvisorCore

/// Reading and writing guest memory named by guest virtual addresses, as hypercall buffers
/// are: each page goes through the guest's stage-1 and its stage-2 (AT S12E1R/W, Arm ARM
/// C5.5), so the guest's own permissions and its VM's bounds both apply.
enum GuestMemory {
    /// The host address of one guest VA, or nil if the guest may not access it.
    static func translate(_ va: UInt64, write: Bool, vcpu: VirtualCPU) -> HostPhysicalAddress? {
        // AT overwrites PAR_EL1, which belongs to the guest while it is loaded.
        let saved = read_par_el1()
        let par = write ? at_s12e1w(va) : at_s12e1r(va)
        write_par_el1(saved)
        guard par & 1 == 0 else { return nil }          // PAR_EL1.F: translation aborted
        let host = HostPhysicalAddress(par & 0x0000_FFFF_FFFF_F000 | va & 0xFFF)
        // Stage 2 maps nothing but this VM's RAM; check anyway before the hypervisor touches it.
        guard vcpu.vm.hostRAM.contains(host) else { return nil }
        return host
    }

    /// Copies [va, va + length) out of the guest; false (nothing read) if any page is denied.
    static func read(_ va: UInt64, length: UInt64, vcpu: VirtualCPU, _ body: (UInt8) -> Void) -> Bool {
        GuestBuffer.forEachPiece(virtualAddress: va, length: length,
                                 translate: { translate($0, write: false, vcpu: vcpu) }) { host, count in
            // SAFETY: `host` is inside this VM's RAM (checked above) and identity mapped.
            let p = UnsafeRawPointer(bitPattern: UInt(host.rawValue))!
            for i in 0..<count { body(p.load(fromByteOffset: i, as: UInt8.self)) }
        }
    }

    /// Copies `bytes` into the guest at va; false (nothing written) if any page is denied.
    static func write(_ va: UInt64, bytes: [UInt8], vcpu: VirtualCPU) -> Bool {
        var index = 0
        return GuestBuffer.forEachPiece(virtualAddress: va, length: UInt64(bytes.count),
                                        translate: { translate($0, write: true, vcpu: vcpu) }) { host, count in
            let p = UnsafeMutableRawPointer(bitPattern: UInt(host.rawValue))!
            for i in 0..<count { p.storeBytes(of: bytes[index + i], toByteOffset: i, as: UInt8.self) }
            index += count
        }
    }

    /// A little-endian 32-bit value at va.
    static func read32(_ va: UInt64, vcpu: VirtualCPU) -> UInt32? {
        var v: UInt32 = 0, shift: UInt32 = 0
        let ok = read(va, length: 4, vcpu: vcpu) { v |= UInt32($0) << shift; shift += 8 }
        return ok ? v : nil
    }
}
