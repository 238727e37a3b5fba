/// One of a vCPU's self-hosted debug registers (Arm ARM D2.8-D2.9, D19.3): breakpoint and
/// watchpoint value and control registers, DBG{B,W}{V,C}R<n>_EL1, encoded
/// S2_0_C0_C<n>_<op2> with op2 4, 5, 6, 7 (Arm ARM D19.3.2-D19.3.13).
public struct DebugRegister: Equatable {
    public enum Kind: UInt8, Equatable {
        case breakpointValue = 4, breakpointControl = 5, watchpointValue = 6, watchpointControl = 7
    }
    public var kind: Kind
    /// n, 0...15.
    public var index: Int

    public init(kind: Kind, index: Int) { self.kind = kind; self.index = index }

    /// The register an MRS/MSR in the S2_0_C0_C<crm>_<op2> space names, if it is one of these.
    public init?(crm: UInt8, op2: UInt8) {
        guard let kind = Kind(rawValue: op2) else { return nil }
        self.kind = kind
        self.index = Int(crm)
    }

    /// Whether the processor implements it: ID_AA64DFR0_EL1.BRPs (bits 15:12) and WRPs
    /// (bits 23:20) give the number of breakpoints and watchpoints minus one (Arm ARM D19.2.60).
    public func isImplemented(dfr0: UInt64) -> Bool {
        switch kind {
        case .breakpointValue, .breakpointControl: return index < DebugRegister.breakpoints(dfr0: dfr0)
        case .watchpointValue, .watchpointControl: return index < DebugRegister.watchpoints(dfr0: dfr0)
        }
    }

    public static func breakpoints(dfr0: UInt64) -> Int { Int(bits(dfr0, 15, 12)) + 1 }
    public static func watchpoints(dfr0: UInt64) -> Int { Int(bits(dfr0, 23, 20)) + 1 }

    /// The value that goes to the hardware register for a guest's write: a guest's breakpoints
    /// and watchpoints must match only its own EL1 and EL0. Control registers lose HMC (bit 13,
    /// Higher Mode Control: matching at EL2) and, for breakpoints, the VMID-matching types
    /// (BT, bits 23:20, 0b1000-0b1011: bit 23), which the hypervisor's VMIDs would answer.
    /// RES0 bits are cleared as the architecture lets a write to them be ignored.
    public func sanitize(_ value: UInt64) -> UInt64 {
        switch kind {
        case .breakpointControl:
            // BT 23:20, LBN 19:16, SSC 15:14, HMC 13, BAS 8:5, PMC 2:1, E 0 (D19.3.2).
            return value & 0x00FF_C1E7 & ~(1 << 23)
        case .watchpointControl:
            // MASK 28:24, WT 20, LBN 19:16, SSC 15:14, HMC 13, BAS 12:5, LSC 4:3, PAC 2:1, E 0 (D19.3.12).
            return value & 0x1F1F_DFFF
        case .breakpointValue:
            return value
        case .watchpointValue:
            return value & ~UInt64(3)   // bits 1:0 RES0 (D19.3.13)
        }
    }
}
