import _Volatile
import SwiftvisorCore

/// What GICv2 and GICv3 distributors share: per-INTID priority and enable bits at the same
/// offsets (IHI0048B 4.3.5-4.3.11, IHI0069 12.9). The version drivers add routing (GICv2
/// ITARGETSR, GICv3 IROUTER) and their CPU interfaces.
struct GICDistributorFrame {
    typealias D = GICDistributorRegister
    let base: UInt64

    func register32(_ offset: UInt64) -> VolatileMappedRegister<UInt32> {
        // SAFETY: the distributor frame from the DTB, mapped Device-nGnRE by EL2MMU.
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base + offset))
    }

    func register8(_ offset: UInt64) -> VolatileMappedRegister<UInt8> {
        VolatileMappedRegister<UInt8>(unsafeBitPattern: UInt(base + offset))
    }

    /// GICD_IPRIORITYR<n>, byte accessible in both versions.
    func setPriority(_ intid: UInt32, _ priority: UInt8) { register8(D.ipriorityr.offset(of: intid)).store(priority) }

    /// GICD_ISENABLER: forwards `intid` again.
    func enable(_ intid: UInt32) { register32(D.isenabler.offset(of: intid)).store(1 << (intid % 32)) }

    /// GICD_ICENABLER: the guest is handling it; a level that stays high must not re-fire.
    func disable(_ intid: UInt32) { register32(D.icenabler.offset(of: intid)).store(1 << (intid % 32)) }
}
