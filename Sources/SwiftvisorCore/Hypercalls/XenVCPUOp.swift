/// `vcpu_op(int cmd, unsigned int vcpuid, void *arg)` as Xen 4.17 on Arm answers it
/// (xen/arch/arm/domain.c do_vcpu_op): a vCPU the domain lacks is -ENOENT; then only
/// register_vcpu_info and register_runstate_memory_area exist, every other command -EINVAL.
public enum XenVCPUOp {
    public enum Command: UInt32 { case registerRunstateMemoryArea = 5, registerVCPUInfo = 10 }

    public static func decode(command: UInt64, vcpu: UInt64, argument: UInt64) -> Result<XenHypercall, XenABI.Errno> {
        .success(.vcpu(command: UInt32(truncatingIfNeeded: command), vcpu: UInt32(truncatingIfNeeded: vcpu), argument: argument))
    }

    public static func check(command: UInt32, vcpu: UInt32, vcpuCount: Int) -> Result<Command, XenABI.Errno> {
        guard vcpu < UInt32(vcpuCount) else { return .failure(.enoent) }
        guard let c = Command(rawValue: command) else { return .failure(.einval) }
        return .success(c)
    }

    /// `struct vcpu_register_vcpu_info { uint64_t mfn; uint32_t offset; uint32_t rsvd; }`.
    public static let registerVCPUInfoSize: UInt64 = 16
    /// `struct vcpu_register_runstate_memory_area { union { guest handle; uint64_t p; } addr; }`.
    public static let registerRunstateSize: UInt64 = 8

    /// map_vcpu_info's checks: the 48-byte vcpu_info inside the page and aligned (-ENXIO),
    /// registered once (-EINVAL), by the vCPU itself or for one that is down (-EINVAL), in RAM
    /// that is populated (-EINVAL: Xen's get_page_from_gfn finds no page in a ballooned-out
    /// hole; a grant mapped over a hole is another domain's page, refused too).
    /// Returns the guest-physical address of the vcpu_info.
    public static func vcpuInfoPlacement(gfn: UInt64, offset: UInt32, alreadyRegistered: Bool, selfOrDown: Bool,
                                         ram: AddressRange<GuestPhysicalAddress>,
                                         isHole: (GuestFrameNumber) -> Bool = { _ in false }) -> Result<GuestPhysicalAddress, XenABI.Errno> {
        guard EventChannel2Level.vcpuInfoOffsetIsValid(UInt64(offset)) else { return .failure(.enxio) }
        guard !alreadyRegistered, selfOrDown else { return .failure(.einval) }
        guard gfn < 1 << 52, ram.contains(GuestPhysicalAddress(gfn << 12)), !isHole(GuestFrameNumber(gfn)) else { return .failure(.einval) }
        return .success(GuestPhysicalAddress(gfn << 12 + UInt64(offset)))
    }
}
