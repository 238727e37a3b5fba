/// Arm SMC Calling Convention (DEN0028) and PSCI 1.1 (DEN0022) calls, as a guest makes them
/// with `hvc #0` (or `smc #0`, trapped by HCR_EL2.TSC).
public enum SMCCCCall: Equatable {
    case smcccVersion
    case smcccArchFeatures(functionID: UInt32)
    /// SMCCC_ARCH_WORKAROUND_1/_3 (DEN0028 7.5, 7.7): invalidate the branch predictor (and
    /// the branch history); _2 (7.6, speculative store bypass) is not offered.
    case archWorkaround1, archWorkaround2, archWorkaround3
    /// PSCI CPU_SUSPEND (DEN0022 5.4): `powerState`, then the entry point and context a
    /// powerdown state would resume at (unused: every state is entered as a standby).
    case cpuSuspend(powerState: UInt64, entry: UInt64, context: UInt64)
    case psciVersion
    case psciFeatures(functionID: UInt32)
    case cpuOn(targetMPIDR: UInt64, entry: UInt64, context: UInt64)
    case cpuOff
    case affinityInfo(targetMPIDR: UInt64, lowestLevel: UInt64)
    case migrateInfoType
    case systemOff
    case systemReset
    case notSupported(functionID: UInt32)

    public enum FunctionID: UInt32 {
        case smcccVersion = 0x8000_0000
        case smcccArchFeatures = 0x8000_0001
        case archWorkaround1 = 0x8000_8000
        case archWorkaround2 = 0x8000_7FFF
        case archWorkaround3 = 0x8000_3FFF
        case cpuSuspend32 = 0x8400_0001
        case cpuSuspend64 = 0xC400_0001
        case psciVersion = 0x8400_0000
        case cpuOff = 0x8400_0002
        case cpuOn32 = 0x8400_0003
        case cpuOn64 = 0xC400_0003
        case affinityInfo32 = 0x8400_0004
        case affinityInfo64 = 0xC400_0004
        case migrateInfoType = 0x8400_0006
        case systemOff = 0x8400_0008
        case systemReset = 0x8400_0009
        case psciFeatures = 0x8400_000A
    }

    /// PSCI return codes (DEN0022 5.2.2); SMCCC's NOT_SUPPORTED is the same -1.
    public enum Status: Int64 {
        case success = 0, notSupported = -1, invalidParameters = -2, denied = -3
        case alreadyOn = -4, onPending = -5, internalFailure = -6, notPresent = -7, disabled = -8, invalidAddress = -9
        public var returnValue: UInt64 { UInt64(bitPattern: rawValue) }
    }

    /// PSCI 1.1 and SMCCC 1.1, encoded major << 16 | minor.
    public static let implementedPSCIVersion: UInt64 = 0x1_0001
    public static let implementedSMCCCVersion: UInt64 = 0x1_0001

    @inline(__always)
    public init(x0: UInt64, x1: UInt64, x2: UInt64, x3: UInt64) {
        let fid = UInt32(truncatingIfNeeded: x0)
        // SMC32 calls (bit 30 clear) take only the low 32 bits of each argument (SMCCC 2.6).
        let is32 = fid & (1 << 30) == 0
        let a1 = is32 ? x1 & 0xFFFF_FFFF : x1, a2 = is32 ? x2 & 0xFFFF_FFFF : x2, a3 = is32 ? x3 & 0xFFFF_FFFF : x3
        guard x0 >> 32 == 0, let f = FunctionID(rawValue: fid) else { self = .notSupported(functionID: fid); return }
        switch f {
        case .smcccVersion: self = .smcccVersion
        case .smcccArchFeatures: self = .smcccArchFeatures(functionID: UInt32(truncatingIfNeeded: a1))
        case .archWorkaround1: self = .archWorkaround1
        case .archWorkaround2: self = .archWorkaround2
        case .archWorkaround3: self = .archWorkaround3
        case .cpuSuspend32, .cpuSuspend64: self = .cpuSuspend(powerState: a1, entry: a2, context: a3)
        case .psciVersion: self = .psciVersion
        case .psciFeatures: self = .psciFeatures(functionID: UInt32(truncatingIfNeeded: a1))
        case .cpuOn32, .cpuOn64: self = .cpuOn(targetMPIDR: a1, entry: a2, context: a3)
        case .cpuOff: self = .cpuOff
        case .affinityInfo32, .affinityInfo64: self = .affinityInfo(targetMPIDR: a1, lowestLevel: a2)
        case .migrateInfoType: self = .migrateInfoType
        case .systemOff: self = .systemOff
        case .systemReset: self = .systemReset
        }
    }

    /// PSCI_FEATURES: 0 for every PSCI function swiftvisor implements (CPU_SUSPEND: 0, the
    /// original power_state format, no OS-initiated mode: DEN0022 5.15.2) and for SMCCC_VERSION,
    /// which is how a caller learns SMCCC 1.1 is there (DEN0028 7.2.1); NOT_SUPPORTED otherwise.
    public static func psciFeatures(of functionID: UInt32) -> UInt64 {
        guard let f = FunctionID(rawValue: functionID),
              f != .smcccArchFeatures, f != .archWorkaround1, f != .archWorkaround2, f != .archWorkaround3 else {
            return Status.notSupported.returnValue
        }
        return Status.success.returnValue
    }

    /// SMCCC_ARCH_FEATURES: 0 for SMCCC_ARCH_FEATURES itself (DEN0028 7.3); the workarounds
    /// depend on the physical CPU (nil: `SpectreMitigations.archFeatures`); NOT_SUPPORTED otherwise.
    public static func archFeatures(of functionID: UInt32) -> UInt64? {
        switch functionID {
        case FunctionID.smcccArchFeatures.rawValue: return Status.success.returnValue
        case FunctionID.archWorkaround1.rawValue, FunctionID.archWorkaround2.rawValue, FunctionID.archWorkaround3.rawValue: return nil
        default: return Status.notSupported.returnValue
        }
    }
}
