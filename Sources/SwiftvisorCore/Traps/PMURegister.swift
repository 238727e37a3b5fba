/// A Performance Monitors register (PMUv3, Arm ARM D11, D19.4), trapped by MDCR_EL2.TPM and
/// TPMCR and run on the hardware PMU, which holds the running vCPU's PMU state.
public enum PMURegister: Equatable {
    case control                 // PMCR_EL0
    case countEnableSet          // PMCNTENSET_EL0
    case countEnableClear        // PMCNTENCLR_EL0
    case overflowClear           // PMOVSCLR_EL0
    case softwareIncrement       // PMSWINC_EL0
    case select                  // PMSELR_EL0
    case commonEventIdentification(Int)  // PMCEID0/1_EL0
    case cycleCounter            // PMCCNTR_EL0
    case selectedType            // PMXEVTYPER_EL0
    case selectedCounter         // PMXEVCNTR_EL0
    case userEnable              // PMUSERENR_EL0
    case interruptEnableSet      // PMINTENSET_EL1
    case interruptEnableClear    // PMINTENCLR_EL1
    case overflowSet             // PMOVSSET_EL0
    case eventCounter(Int)       // PMEVCNTR<n>_EL0
    case eventType(Int)          // PMEVTYPER<n>_EL0
    case cycleFilter             // PMCCFILTR_EL0

    /// The register S<op0>_<op1>_C<crn>_C<crm>_<op2> names, if it is one (Arm ARM D19.4).
    public init?(op0: UInt8, op1: UInt8, crn: UInt8, crm: UInt8, op2: UInt8) {
        switch (op0, op1, crn, crm, op2) {
        case (3, 3, 9, 12, 0): self = .control
        case (3, 3, 9, 12, 1): self = .countEnableSet
        case (3, 3, 9, 12, 2): self = .countEnableClear
        case (3, 3, 9, 12, 3): self = .overflowClear
        case (3, 3, 9, 12, 4): self = .softwareIncrement
        case (3, 3, 9, 12, 5): self = .select
        case (3, 3, 9, 12, 6), (3, 3, 9, 12, 7): self = .commonEventIdentification(Int(op2) - 6)
        case (3, 3, 9, 13, 0): self = .cycleCounter
        case (3, 3, 9, 13, 1): self = .selectedType
        case (3, 3, 9, 13, 2): self = .selectedCounter
        case (3, 3, 9, 14, 0): self = .userEnable
        case (3, 0, 9, 14, 1): self = .interruptEnableSet
        case (3, 0, 9, 14, 2): self = .interruptEnableClear
        case (3, 3, 9, 14, 3): self = .overflowSet
        case (3, 3, 14, 15, 7): self = .cycleFilter
        case (3, 3, 14, 8...11, _): self = .eventCounter(Int(crm - 8) * 8 + Int(op2))
        case (3, 3, 14, 12...15, _): self = .eventType(Int(crm - 12) * 8 + Int(op2))
        default: return nil
        }
    }

    /// PMCR_EL0.N, bits 15:11: event counters implemented (Arm ARM D19.4.8).
    public static func eventCounters(pmcr: UInt64) -> Int { Int(bits(pmcr, 15, 11)) }

    /// PMEVTYPER<n>_EL0 / PMCCFILTR_EL0 (D19.4.11, D19.4.4) as a guest may have them: NSH
    /// (bit 27) clear, so the counter never counts at EL2 (the hypervisor's time is not the
    /// guest's), and M (bit 26, EL3) clear. P, U, NSK, NSU and evtCount are the guest's.
    public static func sanitizeFilter(_ value: UInt64) -> UInt64 {
        value & 0xF000_FFFF & ~(UInt64(1) << 27) & ~(UInt64(1) << 26) & 0xFFFF_FFFF
    }

    /// PMCR_EL0 bits a guest may write: LC (6), DP (5), X (4), D (3), C (2), P (1), E (0)
    /// (D19.4.8); N, IDCODE and IMP are read-only.
    public static let controlWritable: UInt64 = 0x7F

    /// The counter-enable style registers' bits that exist: event counters 0..<n and C (31).
    public static func counterMask(eventCounters n: Int) -> UInt64 { (UInt64(1) << 31) | ((UInt64(1) << UInt64(n)) - 1) }
}
