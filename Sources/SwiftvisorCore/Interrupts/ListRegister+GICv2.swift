/// The 32-bit GICv2 encoding of a list register, GICH_LR<n> (IHI0048B 5.3.11):
/// VirtualID 9:0, PhysicalID 19:10 (HW = 0: EOI bit 19, and for an SGI the source CPUID in
/// 12:10), Priority 27:23 (the top five bits), State 29:28, Grp1 30, HW 31.
extension ListRegister {
    /// The GICH_LR<n> value of this list register.
    public var gicv2: UInt32 {
        var v = virtualINTID & 0x3FF
        if hardware {
            v |= (UInt32(truncatingIfNeeded: rawValue >> 32) & 0x3FF) << 10
        } else if notifiesOnCompletion {
            v |= 1 << 19
        }
        v |= UInt32(priority >> 3) << 23
        v |= UInt32(truncatingIfNeeded: state.rawValue) << 28
        if group1 { v |= 1 << 30 }
        if hardware { v |= 1 << 31 }
        return v
    }

    /// A list register as a GICv2's GICH_LR<n> holds it.
    public init(gicv2 v: UInt32) {
        let hardware = v & 1 << 31 != 0
        var raw = UInt64(v & 0x3FF)                                  // vINTID
        if hardware {
            raw |= UInt64(v >> 10 & 0x3FF) << 32 | 1 << 61           // pINTID, HW
        } else if v & 1 << 19 != 0 {
            raw |= 1 << 41                                           // EOI
        }
        raw |= UInt64(v >> 23 & 0x1F) << 51                         // Priority[7:3]
        raw |= UInt64(v >> 28 & 0b11) << 62                          // State
        if v & 1 << 30 != 0 { raw |= 1 << 60 }                       // Grp1
        self.init(rawValue: raw)
    }
}
