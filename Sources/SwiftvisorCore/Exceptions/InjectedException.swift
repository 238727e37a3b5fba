/// A synchronous exception the hypervisor makes the guest's EL1 take, as the hardware would
/// have taken it (Arm ARM D1.10, pseudocode AArch64.TakeException): which vector it enters,
/// the syndrome it finds in ESR_EL1, and the PSTATE its handler starts with. The caller writes
/// ESR_EL1, FAR_EL1 (when `recordsFaultAddress`), ELR_EL1 = the interrupted PC and SPSR_EL1 =
/// the interrupted PSTATE, then returns to VBAR_EL1 + `vectorOffset` with `handlerState`.
public struct InjectedException: Equatable {
    /// What the guest is told happened.
    public enum Kind: Equatable {
        /// A synchronous External abort on a data access (`write`: it was a store).
        case dataAbort(write: Bool)
        /// A synchronous External abort on an instruction fetch.
        case instructionAbort
        /// The instruction is UNDEFINED (EC 0x00, "Unknown reason", as Xen injects).
        case undefinedInstruction
    }

    /// Where the exception comes from, which selects the quarter of the vector table (Arm ARM
    /// D1.10.2, "Vector offsets from vector table base address").
    public enum Origin: UInt64, Equatable {
        case currentELWithSP0 = 0x000
        case currentELWithSPx = 0x200
        case lowerELAArch64 = 0x400
        case lowerELAArch32 = 0x600
    }

    /// The entry within a quarter (D1.10.2): synchronous, IRQ, FIQ, SError.
    public enum VectorType: UInt64, Equatable {
        case synchronous = 0x000, irq = 0x080, fiq = 0x100, serror = 0x180
    }

    public let origin: Origin
    /// ESR_EL1.
    public let syndrome: ESR
    /// PSTATE at the vector: what SPSR_EL2 holds for the ERET that enters the handler.
    public let handlerState: SPSR
    /// The fault address goes to FAR_EL1 (aborts); FAR_EL1 is UNKNOWN otherwise and is left alone.
    public let recordsFaultAddress: Bool

    /// Offset of the entry from VBAR_EL1.
    public var vectorOffset: UInt64 { origin.rawValue + VectorType.synchronous.rawValue }

    /// DFSC/IFSC 0b010000: synchronous External abort, not on a translation table walk
    /// (Arm ARM D19.2.40, ISS encoding for Data and Instruction Aborts).
    public static let externalAbort: UInt64 = 0b01_0000
    /// WnR, ISS bit 6: the abort was caused by a write.
    static let writeNotRead: UInt64 = 1 << 6

    /// - Parameters:
    ///   - interrupted: the guest's PSTATE when it trapped (SPSR_EL2).
    ///   - guestSCTLR: the guest's SCTLR_EL1 (SPAN decides PSTATE.PAN).
    ///   - hasPAN: the CPU implements FEAT_PAN (ID_AA64MMFR1_EL1.PAN != 0).
    ///   - hasDIT, hasSSBS: FEAT_DIT (ID_AA64PFR0_EL1.DIT), FEAT_SSBS (ID_AA64PFR1_EL1.SSBS).
    public init(_ kind: Kind, interrupted: SPSR, guestSCTLR: SCTLR, hasPAN: Bool, hasDIT: Bool = false, hasSSBS: Bool = false) {
        origin = Self.origin(of: interrupted)
        // Same-EL classes when EL1 itself faulted, lower-EL classes from EL0 (D19.2.40).
        let fromEL1 = origin == .currentELWithSP0 || origin == .currentELWithSPx
        switch kind {
        case .dataAbort(let write):
            // ISV = 0: no instruction syndrome; IL is then 1.
            syndrome = ESR(exceptionClass: fromEL1 ? .dataAbortSameEL : .dataAbortLowerEL,
                           iss: Self.externalAbort | (write ? Self.writeNotRead : 0))
            recordsFaultAddress = true
        case .instructionAbort:
            syndrome = ESR(exceptionClass: fromEL1 ? .instructionAbortSameEL : .instructionAbortLowerEL,
                           iss: Self.externalAbort)
            recordsFaultAddress = true
        case .undefinedInstruction:
            // EC 0x00: ISS is RES0, IL is 1.
            syndrome = ESR(exceptionClass: .unknown, iss: 0)
            recordsFaultAddress = false
        }
        handlerState = Self.handlerState(interrupted: interrupted, guestSCTLR: guestSCTLR, hasPAN: hasPAN,
                                         hasDIT: hasDIT, hasSSBS: hasSSBS)
    }

    /// The quarter of the vector table for an exception taken to EL1 from `interrupted`
    /// (HCR_EL2.RW = 1, so EL1 is AArch64 and only EL0 can be AArch32).
    public static func origin(of interrupted: SPSR) -> Origin {
        if interrupted.isAArch32 { return .lowerELAArch32 }
        if interrupted.exceptionLevel == 0 { return .lowerELAArch64 }
        return interrupted.usesSPx ? .currentELWithSPx : .currentELWithSP0
    }

    /// AArch64.TakeException, target EL1: EL1h (M = 0b0101), D, A, I and F masked; IL, SS,
    /// BTYPE and UAO clear; PAN is set if SCTLR_EL1.SPAN is 0 (FEAT_PAN) and otherwise kept;
    /// DIT kept (FEAT_DIT; bit 21 of an AArch32 SPSR); SSBS = SCTLR_EL1.DSSBS (FEAT_SSBS).
    static func handlerState(interrupted: SPSR, guestSCTLR: SCTLR, hasPAN: Bool, hasDIT: Bool = false, hasSSBS: Bool = false) -> SPSR {
        var s = SPSR(rawValue: SPSR.Mode.el1h.rawValue)
        s.daif = 0b1111
        if hasPAN { s.pan = interrupted.pan || !guestSCTLR.span }
        if hasDIT { s.setDIT(interrupted.dit) }
        if hasSSBS { s.ssbs = guestSCTLR.dssbs }
        return s
    }

    /// The guest faulted on the very vector a previous injection sent it to: it has no working
    /// handler, and injecting again would loop forever (0: nothing injected yet).
    public static func isRepeated(pc: UInt64, lastInjectedVector: UInt64) -> Bool {
        lastInjectedVector != 0 && pc == lastInjectedVector
    }
}
