/// Arm SMC Calling Convention (DEN0028) and PSCI 1.1 (DEN0022) calls, as a guest makes them
/// with `hvc #0` (or `smc #0`, trapped by HCR_EL2.TSC).
public enum SMCCCCall: Equatable {
    case smcccVersion
    case smcccArchFeatures(functionID: UInt32)
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

    /// PSCI_FEATURES: 0 for every function swiftvisor implements, NOT_SUPPORTED otherwise.
    public static func psciFeatures(of functionID: UInt32) -> UInt64 {
        guard let f = FunctionID(rawValue: functionID), f != .smcccVersion, f != .smcccArchFeatures else {
            return Status.notSupported.returnValue
        }
        return Status.success.returnValue
    }

    /// SMCCC_ARCH_FEATURES: no firmware workarounds are offered (SMCCC 7.5); SMCCC_VERSION
    /// itself is mandatory and answers 0 (SMCCC 7.2.1 says callers may query it).
    public static func archFeatures(of functionID: UInt32) -> UInt64 {
        functionID == FunctionID.smcccArchFeatures.rawValue ? Status.success.returnValue : Status.notSupported.returnValue
    }
}
