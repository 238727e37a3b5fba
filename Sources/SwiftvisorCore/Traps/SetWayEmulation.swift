/// Data cache maintenance by set/way from a guest, emulated as KVM does it
/// (arch/arm64/kvm/mmu.c, kvm_set_way_flush and kvm_toggle_cache; sys_regs.c, access_dcsw).
///
/// Set/way operations (DC ISW/CSW/CISW, trapped by HCR_EL2.TSW) act on one physical cache
/// line slot of one core: a guest cannot use them to reach the Point of Coherency for its
/// memory on a machine where other cores, the system cache or a migrated vCPU hold it. Their
/// only legitimate use is around turning the caches or the MMU on or off (Arm ARM D7.5.9.2:
/// "Set/way operations are not broadcast ... should only be used ... when powering down or
/// at boot"), so, as KVM:
///
/// - the first set/way operation cleans the whole VM to the PoC, by VA, and starts trapping
///   the EL1 virtual memory control registers (HCR_EL2.TVM); the other operations of the
///   same sweep (and of later sweeps) then do nothing;
/// - while trapping, a write to SCTLR_EL1 that turns the caches on or off (M and C together:
///   KVM's `vcpu_has_cache_enabled`) cleans the VM again, the transition that needs it;
/// - once the guest has its caches on, trapping stops until its next set/way operation.
///
/// The clean is long (all of the guest's RAM), so it is done in chunks that can be
/// interrupted: `cursor` is where the next chunk starts, kept across exits. A vCPU whose clean
/// was interrupted re-executes the trapped instruction (it was not skipped), and the clean goes
/// on from the cursor.
public struct SetWayEmulation: Equatable {
    /// HCR_EL2.TVM for this vCPU: writes to SCTLR_EL1, TTBR0/1_EL1, TCR_EL1, MAIR_EL1,
    /// AMAIR_EL1, CONTEXTIDR_EL1, ESR_EL1, FAR_EL1, AFSR0/1_EL1 trap (Arm ARM D19.2.49).
    public private(set) var trapsVirtualMemoryControls = false
    /// Offset into the guest's RAM where the clean in progress goes on; nil when none is.
    public private(set) var cursor: UInt64?

    public init() {}

    /// What a trapped instruction must wait for before it takes effect.
    public enum Step: Equatable {
        /// Clean the guest's RAM from `cursor` on (`advance` after each chunk).
        case clean
        /// Nothing left to clean: the instruction takes effect now.
        case complete
    }

    /// A DC ISW/CSW/CISW trapped: a clean starts if the VM is not being watched yet
    /// (KVM's kvm_set_way_flush: only when HCR_EL2.TVM is clear).
    public mutating func setWayOperation() -> Step {
        if cursor != nil { return .clean }
        guard !trapsVirtualMemoryControls else { return .complete }
        trapsVirtualMemoryControls = true
        cursor = 0
        return .clean
    }

    /// A trapped write of `new` to SCTLR_EL1 whose value was `old`: a clean first if the
    /// caches go on or off (kvm_toggle_cache).
    public mutating func systemControlWrite(old: UInt64, new: UInt64) -> Step {
        if cursor != nil { return .clean }
        if Self.cachesEnabled(old) != Self.cachesEnabled(new) { cursor = 0; return .clean }
        return .complete
    }

    /// The SCTLR_EL1 write took effect: with the caches on, nothing needs watching any more
    /// (KVM clears HCR_EL2.TVM there).
    public mutating func systemControlWritten(_ new: UInt64) {
        if Self.cachesEnabled(new) { trapsVirtualMemoryControls = false }
    }

    /// Any other trapped write (TTBR0/1, TCR, ...): it waits for a clean in progress only.
    public mutating func otherControlWrite() -> Step { cursor != nil ? .clean : .complete }

    /// The chunk before `offset` is clean; `size` is the guest's RAM size. Returns `.complete`
    /// when all of it is.
    public mutating func advance(to offset: UInt64, of size: UInt64) -> Step {
        if offset >= size { cursor = nil; return .complete }
        cursor = offset
        return .clean
    }

    /// A vCPU reset (boot, reboot, PSCI CPU_ON): no trapping, no clean in progress.
    public mutating func reset() { self = SetWayEmulation() }

    /// SCTLR_EL1.M and .C both set (Arm ARM D19.2.122).
    public static func cachesEnabled(_ sctlr: UInt64) -> Bool {
        let s = SCTLR(rawValue: sctlr)
        return s.m && s.c
    }

    /// Bytes cleaned between two checks for pending interrupts: 2 MiB, about 0.2 ms of
    /// DC CIVAC under QEMU (512 MiB took 55 ms in one go).
    public static let chunkSize: UInt64 = 2 << 20
}

/// The EL1 registers HCR_EL2.TVM traps writes to (Arm ARM D19.2.49, TVM), by encoding.
public enum VirtualMemoryControlRegister: Equatable {
    case sctlr, ttbr0, ttbr1, tcr, afsr0, afsr1, esr, far, mair, amair, contextidr

    public init?(op0: UInt8, op1: UInt8, crn: UInt8, crm: UInt8, op2: UInt8) {
        guard op0 == 3, op1 == 0 else { return nil }
        switch (crn, crm, op2) {
        case (1, 0, 0): self = .sctlr
        case (2, 0, 0): self = .ttbr0
        case (2, 0, 1): self = .ttbr1
        case (2, 0, 2): self = .tcr
        case (5, 1, 0): self = .afsr0
        case (5, 1, 1): self = .afsr1
        case (5, 2, 0): self = .esr
        case (6, 0, 0): self = .far
        case (10, 2, 0): self = .mair
        case (10, 3, 0): self = .amair
        case (13, 0, 1): self = .contextidr
        default: return nil
        }
    }
}
