import _Volatile
import CArch
import SwiftvisorCore

/// The GIC's virtual CPU interface of the core running this: on a GICv3 the ICH_*_EL2 system
/// registers (IHI0069 12.4), on a GICv2 the memory-mapped GICH frame (IHI0048B 5.3), chosen
/// once at boot (`select`). List registers are exchanged as `ListRegister` values (GICv3
/// layout; a GICv2's 32-bit GICH_LR is converted).
enum VirtualCPUInterface {
    nonisolated(unsafe) static var version: GICVersion = .v3

    static func select(_ platform: HostPlatform) {
        version = platform.gicVersion ?? .v3
        if let h = platform.gicHypervisorInterface { GICv2VirtualInterface.base = h.base.rawValue }
    }

    /// Number of list registers: ICH_VTR_EL2.ListRegs + 1 (IHI0069 12.4.9) or
    /// GICH_VTR.ListRegs + 1 (IHI0048B 5.3.2); at most 16 (`ListRegisterFile` masks).
    static func listRegisterCount() -> Int {
        let n = version == .v3 ? Int(read_ich_vtr_el2() & 0x1F) + 1 : Int(GICHypervisorType(rawValue: GICv2VirtualInterface.vtr).listRegisters) + 1
        return min(n, 16)
    }

    @inline(__always)
    static func readLR(_ n: Int) -> ListRegister {
        version == .v3 ? ListRegister(rawValue: read_ich_lr(Int32(n))) : ListRegister(gicv2: GICv2VirtualInterface.readLR(n))
    }

    @inline(__always)
    static func writeLR(_ n: Int, _ lr: ListRegister) {
        if version == .v3 { write_ich_lr(Int32(n), lr.rawValue) } else { GICv2VirtualInterface.writeLR(n, lr.gicv2) }
    }

    /// ICH_HCR_EL2 / GICH_HCR: En (bit 0) and UIE (bit 1) sit at the same place in both.
    @inline(__always)
    static func writeHCR(_ v: UInt64) {
        if version == .v3 { write_ich_hcr_el2(v) } else { GICv2VirtualInterface.writeHCR(UInt32(truncatingIfNeeded: v)) }
    }

    /// World switch out: the guest's CPU interface controls (ICH_VMCR_EL2 / GICH_VMCR) and
    /// active priorities (ICH_AP0R0/AP1R0_EL2, or GICH_APR kept as group 1).
    @inline(__always)
    static func saveControls() -> (vmcr: UInt64, group0: UInt64, group1: UInt64) {
        if version == .v3 { return (read_ich_vmcr_el2(), read_ich_ap0r0_el2(), read_ich_ap1r0_el2()) }
        return (UInt64(GICv2VirtualInterface.register(.vmcr).load()), 0, UInt64(GICv2VirtualInterface.register(.apr).load()))
    }

    /// World switch in: every list register, the controls `saveControls` gave, then HCR.
    @inline(__always)
    static func restore(count: Int, _ listRegister: (Int) -> ListRegister, vmcr: UInt64, group0: UInt64, group1: UInt64, hcr: UInt64) {
        if version == .v3 {
            for n in 0..<count { write_ich_lr(Int32(n), listRegister(n).rawValue) }
            write_ich_vmcr_el2(vmcr)
            write_ich_ap0r0_el2(group0)
            write_ich_ap1r0_el2(group1)
            write_ich_hcr_el2(hcr)
            return
        }
        for n in 0..<count { GICv2VirtualInterface.writeLR(n, listRegister(n).gicv2) }
        GICv2VirtualInterface.register(.vmcr).store(UInt32(truncatingIfNeeded: vmcr))
        GICv2VirtualInterface.register(.apr).store(UInt32(truncatingIfNeeded: group1))
        GICv2VirtualInterface.writeHCR(UInt32(truncatingIfNeeded: hcr))
    }
}

/// The GICv2 virtual interface control frame, GICH (IHI0048B 5.3): at the same address on
/// every core, each seeing its own. Offsets are the core's `GICHypervisorRegister`.
enum GICv2VirtualInterface {
    nonisolated(unsafe) static var base: UInt64 = 0

    @inline(__always)
    static func register(at offset: UInt64) -> VolatileMappedRegister<UInt32> {
        // SAFETY: the GICH frame from the DTB, mapped Device-nGnRE by EL2MMU.
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base + offset))
    }
    @inline(__always)
    static func register(_ r: GICHypervisorRegister) -> VolatileMappedRegister<UInt32> { register(at: r.rawValue) }

    /// GICH_VTR (`GICHypervisorType`).
    static var vtr: UInt32 { register(.vtr).load() }
    static func writeHCR(_ v: UInt32) { register(.hcr).store(v) }
    /// GICH_MISR: why the maintenance interrupt is asserted.
    static var misr: UInt32 { register(.misr).load() }
    /// GICH_LR<n>.
    @inline(__always) static func readLR(_ n: Int) -> UInt32 { register(at: GICHypervisorRegister.listRegister(n)).load() }
    @inline(__always) static func writeLR(_ n: Int, _ v: UInt32) { register(at: GICHypervisorRegister.listRegister(n)).store(v) }
}
