/// Bit fields of the GIC registers in `GICRegisterMap.swift` that the drivers and the emulated
/// distributors read or build (IHI0048B chapters 4 and 5 for GICv2, IHI0069 chapter 12 for GICv3).
/// Members are `@inlinable`: the physical drivers use them from the other module on the exit path.

/// GICD_CTLR (IHI0048B 4.3.1; IHI0069 12.9 in the view a Non-secure hypervisor has, or with
/// a single Security state).
public struct GICDistributorControl: OptionSet, Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// EnableGrp0, bit 0: Group 0 interrupts are forwarded (a GICv2 without Security
    /// Extensions: Enable; in a Non-secure view the bit enables Group 1 instead).
    @inlinable public static var enableGroup0: GICDistributorControl { GICDistributorControl(rawValue: 1 << 0) }
    /// EnableGrp1 (EnableGrp1NS, EnableGrp1A), bit 1: Group 1 interrupts are forwarded.
    @inlinable public static var enableGroup1: GICDistributorControl { GICDistributorControl(rawValue: 1 << 1) }
    /// ARE (ARE_NS), bit 4, GICv3: affinity routing, IROUTER and the redistributors in use.
    @inlinable public static var affinityRouting: GICDistributorControl { GICDistributorControl(rawValue: 1 << 4) }
    /// RWP, bit 31, GICv3: a write to GICD_CTLR or ICENABLER is still taking effect.
    @inlinable public static var registerWritePending: GICDistributorControl { GICDistributorControl(rawValue: 1 << 31) }
}

/// GICD_TYPER (IHI0048B 4.3.2, IHI0069 12.9): what the distributor implements.
public struct GICDistributorType: Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// ITLinesNumber 4:0 (32 * (N + 1) INTIDs), CPUNumber 7:5 (cores - 1, GICv2 or ARE off),
    /// IDbits 23:19 (GICv3: INTID bits - 1; 0 on a GICv2).
    @inlinable public init(itLinesNumber: UInt32, cpuNumber: UInt32, idBits: UInt32 = 0) {
        rawValue = itLinesNumber & 0x1F | (cpuNumber & 0x7) << 5 | (idBits & 0x1F) << 19
    }
    @inlinable public var itLinesNumber: UInt32 { rawValue & 0x1F }
    @inlinable public var cpuNumber: UInt32 { rawValue >> 5 & 0x7 }
    @inlinable public var idBits: UInt32 { rawValue >> 19 & 0x1F }
}

/// GICD_IROUTER<n> (IHI0069 12.9): the core an SPI goes to, by affinity.
public struct GICDistributorRoute: Equatable {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The core whose MPIDR_EL1 is `mpidr`: Aff3 (MPIDR 39:32) in 39:32, Aff2-Aff0 (23:0) in
    /// 23:0, Interrupt_Routing_Mode (bit 31) 0.
    @inlinable public init(mpidr: UInt64) { rawValue = mpidr & 0xFF_FFFF | (mpidr >> 32 & 0xFF) << 32 }
    /// Aff0, bits 7:0.
    @inlinable public var aff0: UInt64 { rawValue & 0xFF }
}

/// GICR_TYPER (IHI0069 12.10), 64 bits.
public struct GICRedistributorType: Equatable {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(processorNumber: UInt64, last: Bool, affinityValue: UInt64) {
        rawValue = (processorNumber & 0xFFFF) << 8 | (last ? 1 << 4 : 0) | affinityValue << 32
    }
    /// Last, bit 4: the highest redistributor of its region.
    @inlinable public var last: Bool { rawValue & 1 << 4 != 0 }
    /// Processor_Number, bits 23:8.
    @inlinable public var processorNumber: UInt64 { rawValue >> 8 & 0xFFFF }
    /// Affinity_Value, bits 63:32: Aff3.Aff2.Aff1.Aff0 of its core.
    @inlinable public var affinityValue: UInt64 { rawValue >> 32 }
    /// The Affinity_Value of the core whose MPIDR_EL1 is `mpidr` (Aff3 from MPIDR 39:32).
    @inlinable public static func affinityValue(mpidr: UInt64) -> UInt64 { mpidr & 0xFF_FFFF | (mpidr >> 32 & 0xFF) << 24 }
}

/// GICR_WAKER (IHI0069 12.10).
public struct GICRedistributorWake: OptionSet, Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// ProcessorSleep, bit 1: the core is asleep; cleared to wake its redistributor.
    @inlinable public static var processorSleep: GICRedistributorWake { GICRedistributorWake(rawValue: 1 << 1) }
    /// ChildrenAsleep, bit 2 (read-only): the interface to the core is quiescent.
    @inlinable public static var childrenAsleep: GICRedistributorWake { GICRedistributorWake(rawValue: 1 << 2) }
}

/// GICC_CTLR (IHI0048B 4.4.1).
public struct GICCPUInterfaceControl: OptionSet, Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Bit 0 (Enable; EnableGrp0, or EnableGrp1 in the Non-secure view): signal that group's
    /// interrupts to the core. EOImode (bit 9) left 0: EOIR drops priority and deactivates.
    @inlinable public static var enable: GICCPUInterfaceControl { GICCPUInterfaceControl(rawValue: 1 << 0) }
}

/// GICC_IAR (IHI0048B 4.4.4): what an acknowledge returned; GICC_EOIR takes it back whole.
public struct GICv2InterruptAcknowledge: Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Interrupt ID, bits 9:0 (1023: spurious).
    @inlinable public var intid: UInt32 { rawValue & 0x3FF }
    /// CPUID, bits 12:10: for an SGI, the CPU interface that sent it.
    @inlinable public var cpuID: UInt32 { rawValue >> 10 & 0x7 }
}

/// ICC_IAR1_EL1 (IHI0069 12.2), the GICv3 system-register acknowledge.
public struct GICv3InterruptAcknowledge: Equatable {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// INTID, bits 23:0.
    @inlinable public var intid: UInt32 { UInt32(truncatingIfNeeded: rawValue & 0xFF_FFFF) }
}

/// GICH_HCR (IHI0048B 5.3.1), and ICH_HCR_EL2 (IHI0069 12.4), which has these bits at the
/// same place.
public struct GICHypervisorControl: OptionSet, Equatable {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// En, bit 0: the virtual CPU interface is enabled.
    @inlinable public static var enable: GICHypervisorControl { GICHypervisorControl(rawValue: 1 << 0) }
    /// UIE, bit 1: maintenance interrupt while at most one list register holds an interrupt.
    @inlinable public static var underflowInterrupt: GICHypervisorControl { GICHypervisorControl(rawValue: 1 << 1) }
}

/// GICH_VTR (IHI0048B 5.3.2): the virtual interface's size.
public struct GICHypervisorType: Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// ListRegs, bits 5:0: list registers - 1.
    @inlinable public var listRegisters: UInt32 { rawValue & 0x3F }
    /// PREbits, bits 28:26: preemption bits - 1.
    @inlinable public var preemptionBits: UInt32 { rawValue >> 26 & 0x7 }
    /// PRIbits, bits 31:29: priority bits - 1.
    @inlinable public var priorityBits: UInt32 { rawValue >> 29 & 0x7 }
}
