/// What the hypervisor does with a trapped system register or system instruction
/// (ESR_EL2.EC 0x18). One table, so that every register a guest kernel touches has a
/// deliberate answer (Xen's vreg tables and KVM's sys_regs.c play this role).
public enum SystemRegisterAction: Equatable {
    /// GICv3 SGI generation (ICC_SGI1R_EL1, ICC_ASGI1R_EL1), trapped by HCR_EL2.IMO.
    case generateSGI
    /// The EL1 physical timer, emulated (CNTHCTL_EL2.EL1PCEN = 0).
    case physicalTimer(EmulatedTimer.Register)
    /// An AArch64 ID register (HCR_EL2.TID3): the hardware's value with unvirtualised
    /// features hidden; `crm`/`op2` select it in the S3_0_C0_C<crm>_<op2> space.
    case idRegister(crm: UInt8, op2: UInt8)
    /// MDSCR_EL1 (trapped with the other debug registers by MDCR_EL2.TDA): the guest's own,
    /// kept in its saved context.
    case debugControl
    /// OSLSR_EL1: the OS lock is implemented (OSLM = 0b10) and OSLK as last written to OSLAR_EL1.
    case osLockStatus
    case osLockAccess
    /// A breakpoint or watchpoint register (MDCR_EL2.TDA): the vCPU's own, switched with it.
    case debugRegister(DebugRegister)
    /// A Performance Monitors register (MDCR_EL2.TPM, TPMCR): the vCPU's own PMU, switched with it.
    case pmu(PMURegister)
    /// Debug, PMU and other registers of features not offered: reads as zero, writes ignored.
    case readAsZeroWriteIgnored
    /// DC ISW/CSW/CISW (HCR_EL2.TSW): set/way maintenance, done by VA over the guest's RAM.
    case cacheSetWay
    /// Writes to the EL1 virtual memory controls, trapped by HCR_EL2.TVM while a vCPU's
    /// set/way maintenance is emulated (SetWayEmulation): written to the register.
    case virtualMemoryControl(VirtualMemoryControlRegister)
    /// Anything else: the guest gets an Undefined Instruction exception.
    case undefined

    public init(_ a: SystemRegisterAccess) {
        switch (a.op0, a.op1, a.crn, a.crm, a.op2) {
        case (3, 0, 12, 11, 5), (3, 0, 12, 11, 6): self = a.isRead ? .undefined : .generateSGI
        case (3, 0, 0, 1...7, _): self = a.isRead ? .idRegister(crm: a.crm, op2: a.op2) : .undefined
        case (2, 0, 0, 2, 2): self = .debugControl                                   // MDSCR_EL1
        case (2, 0, 1, 1, 4): self = a.isRead ? .osLockStatus : .undefined           // OSLSR_EL1
        case (2, 0, 1, 0, 4): self = a.isRead ? .undefined : .osLockAccess           // OSLAR_EL1
        case (2, 0, 0, _, 4...7): self = .debugRegister(DebugRegister(crm: a.crm, op2: a.op2)!)  // DBGB/WVR, DBGB/WCR
        case (2, _, _, _, _): self = .readAsZeroWriteIgnored       // OSDLR, claim tags, DBGPRCR...
        case (3, 3, 9, _, _), (3, 0, 9, 14, _), (3, 3, 14, 8...15, _):
            if let r = PMURegister(op0: a.op0, op1: a.op1, crn: a.crn, crm: a.crm, op2: a.op2) { self = .pmu(r) } else { self = .undefined }
        case (1, 0, 7, 6, 2), (1, 0, 7, 10, 2), (1, 0, 7, 14, 2): self = .cacheSetWay
        case (3, _, 11, _, _), (3, _, 15, _, _):
            // IMPLEMENTATION DEFINED space (HCR_EL2.TIDCP; Arm ARM D18.3.2): L2CTLR_EL1,
            // L2ECTLR_EL1, CPUACTLR_EL1, CPUECTLR_EL1, CBAR_EL1... would tell the physical core
            // count and GIC base. UNDEF, as KVM (Linux reads none of them at EL1 as a guest).
            self = .undefined
        case (3, 0, 5, 3, 0), (3, 0, 5, 3, 1), (3, 0, 5, 4, _), (3, 0, 5, 5, _):
            // RAS error records (HCR_EL2.TERR): ERRIDR_EL1 reads 0, no records; RAZ/WI as KVM.
            self = .readAsZeroWriteIgnored
        default:
            if !a.isRead, let r = VirtualMemoryControlRegister(op0: a.op0, op1: a.op1, crn: a.crn, crm: a.crm, op2: a.op2) {
                self = .virtualMemoryControl(r)
            } else if let t = EmulatedTimer.register(a) { self = .physicalTimer(t) } else { self = .undefined }
        }
    }
}

/// The ID register values a guest sees: the hardware's, with the fields of features swiftvisor
/// does not virtualise set to "not implemented" (Arm ARM D19.2, the ID_AA64* registers).
public enum IDRegisters {
    /// Fields (high bit, low bit) to clear, per (CRm, op2) of S3_0_C0_C<CRm>_<op2>.
    static func hiddenFields(crm: UInt8, op2: UInt8) -> [(Int, Int)] {
        switch (crm, op2) {
        case (4, 0): return [(35, 32), (47, 44), (43, 40)]                 // ID_AA64PFR0: SVE, AMU, MPAM
        case (4, 1): return [(11, 8), (27, 24), (19, 16), (55, 52)]        // ID_AA64PFR1: MTE, SME, MPAM_frac, NMI
        case (4, 4), (4, 5): return [(63, 0)]                              // ID_AA64ZFR0, ID_AA64SMFR0
        case (5, 0): return [(7, 4), (35, 32), (47, 44), (43, 40)]         // ID_AA64DFR0: TraceVer, PMSVer, TraceBuffer, BRBE (PMUVer: SelfHostedPMU)
        case (7, 1): return [(19, 16)]                                     // ID_AA64MMFR1: LO (HCR_EL2.TLOR traps them)
        case (6, 1): return [(7, 4), (11, 8), (27, 24), (31, 28)]          // ID_AA64ISAR1: APA, API, GPA, GPI (pointer auth)
        case (6, 2): return [(15, 12), (11, 8)]                            // ID_AA64ISAR2: APA3, GPA3
        default: return []
        }
    }

    public static func sanitize(crm: UInt8, op2: UInt8, _ value: UInt64) -> UInt64 {
        var v = value
        for (high, low) in hiddenFields(crm: crm, op2: op2) { v = setting(v, high, low, to: 0) }
        return v
    }
}
