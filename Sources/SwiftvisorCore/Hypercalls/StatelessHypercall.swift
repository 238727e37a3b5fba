/// Hypercalls whose answer depends on nothing but their arguments: the exit path answers them
/// from the saved registers alone, before taking the hypervisor lock or touching any vCPU,
/// VM or scheduler state. Everything else returns nil and takes the full path.
public enum StatelessHypercall {
    @inline(__always)
    public static func answer(immediate: UInt16, x16: UInt64, x0: UInt64, x1: UInt64) -> UInt64? {
        if immediate == XenABI.hvcImmediate {
            // xen_version first: the common case costs one compare, not a number lookup.
            guard x16 == XenABI.Number.xenVersion.rawValue else {
                // A bit test, not the enum's lookup: this runs on every sched_op yield.
                return x16 < 64 && (XenABI.implementedNumbers >> x16) & 1 != 0 ? nil : XenABI.Errno.enosys.returnValue
            }
            typealias Command = XenABI.VersionCommand
            switch x0 {
            case Command.version.rawValue: return XenABI.version
            case Command.pageSize.rawValue: return x1 == 0 ? PageSize.granule : XenABI.Errno.einval.returnValue
            case Command.buildID.rawValue: return XenABI.Errno.eperm.returnValue
            case Command.extraVersion.rawValue...Command.commandline.rawValue: return nil   // reads or writes guest memory
            default: return XenABI.Errno.enosys.returnValue
            }
        }
        guard immediate == 0 else { return SMCCCCall.Status.notSupported.returnValue }
        switch SMCCCCall(x0: x0, x1: x1, x2: 0, x3: 0) {
        case .psciVersion: return SMCCCCall.implementedPSCIVersion
        case .smcccVersion: return SMCCCCall.implementedSMCCCVersion
        case .psciFeatures(let fid): return SMCCCCall.psciFeatures(of: fid)
        case .smcccArchFeatures(let fid): return SMCCCCall.archFeatures(of: fid)
        case .migrateInfoType: return 2
        case .notSupported, .archWorkaround2: return SMCCCCall.Status.notSupported.returnValue
        case .cpuOn, .cpuOff, .affinityInfo, .systemOff, .systemReset, .cpuSuspend: return nil
        case .archWorkaround1, .archWorkaround3: return nil   // invalidates the branch predictor
        }
    }
}
