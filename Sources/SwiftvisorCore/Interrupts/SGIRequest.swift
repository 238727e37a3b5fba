/// A guest's write to ICC_SGI1R_EL1 (IHI0069 12.2.23), trapped while HCR_EL2.IMO is set.
public struct SGIRequest: Equatable {
    public var intid: UInt32
    /// IRM, bit 40: to every vCPU but the sender.
    public var allButSelf: Bool
    /// Aff3.Aff2.Aff1 of the targets (bits 55:48, 39:32, 23:16) and the Aff0 TargetList.
    public var affinity: UInt64
    public var targetList: UInt16

    public init(_ v: UInt64) {
        intid = UInt32(v >> 24 & 0xF)
        allButSelf = v & (1 << 40) != 0
        affinity = (v >> 48 & 0xFF) << 24 | (v >> 32 & 0xFF) << 16 | (v >> 16 & 0xFF) << 8
        targetList = UInt16(truncatingIfNeeded: v)
        // RS, bits 47:44, selects Aff0 16..31 etc.; guests with < 16 vCPUs use RS = 0.
        if v >> 44 & 0xF != 0 { targetList = 0 }
    }

    /// The vCPU indices (Aff0 = index, Aff1-3 = 0 in swiftvisor's MPIDRs) this SGI goes to.
    public func targets(sender: Int, vcpuCount: Int) -> [Int] {
        let mask = targetMask(sender: sender, vcpuCount: vcpuCount)
        return (0..<min(vcpuCount, 64)).filter { mask & (1 << UInt64($0)) != 0 }
    }

    /// The same as a mask (bit n: vCPU n), without allocating an array: what the trap handler
    /// uses on every SGI.
    @inlinable
    public func targetMask(sender: Int, vcpuCount: Int) -> UInt64 {
        let count = min(vcpuCount, 64)
        let all: UInt64 = count == 64 ? ~0 : (1 << UInt64(count)) &- 1
        if allButSelf { return all & ~(1 << UInt64(sender & 63)) }
        guard affinity == 0 else { return 0 }
        return UInt64(targetList) & all   // TargetList covers Aff0 0..15
    }
}
