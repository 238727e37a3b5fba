/// `vm_assist(cmd, type)` (xen.h VMASST_*), as Xen 4.17 on Arm answers it (common/domain.c
/// do_vm_assist; arch/arm's valid mask holds only VMASST_TYPE_runstate_update_flag).
public enum XenVMAssist {
    public enum Command: UInt64 { case enable = 0, disable = 1 }
    /// VMASST_TYPE_* numbers; only runstateUpdateFlag exists on Arm.
    public enum AssistType: UInt64 {
        case fourGBSegments = 0, fourGBSegmentsNotify = 1, writablePageTables = 2, paeExtendedCR3 = 3
        case architecturalIOPL = 4, runstateUpdateFlag = 5, m2pStrict = 32
    }

    /// Xen checks the type before the command: a type Arm does not offer is -EINVAL whatever the
    /// command, an unknown command -ENOSYS. swiftvisor has no runstate area (VCPUOP_register_runstate_memory_area),
    /// so accepting the flag changes nothing a guest can see, as in Xen before that area is registered.
    public static func answer(command: UInt64, type: UInt64) -> Result<Command, XenABI.Errno> {
        guard type == AssistType.runstateUpdateFlag.rawValue else { return .failure(.einval) }
        guard let c = Command(rawValue: command) else { return .failure(.enosys) }
        return .success(c)
    }
}
