/// INTID ranges of GICv3 (IHI0069 2.2): SGIs 0-15 and PPIs 16-31 are private to each
/// (v)CPU, SPIs 32-1019 shared, 1020-1023 special.
public enum InterruptID {
    public static let sgiCount = 16
    public static let privateCount = 32
    public static let spurious: UInt32 = 1023
    /// Virtual timer PPI 11, EL1 physical timer PPI 14, maintenance PPI 9 (BSA numbering).
    public static let virtualTimer: UInt32 = 27
    public static let physicalTimer: UInt32 = 30
    public static let maintenance: UInt32 = 25
}

/// What a guest has programmed for one interrupt, and its pending/active state.
public struct VirtualInterruptState: Equatable {
    public var enabled = false
    public var pending = false
    public var active = false
    /// IGROUPR: Group 1 (the only group a non-secure guest uses).
    public var group1 = false
    public var priority: UInt8 = 0
    /// ICFGR: edge-triggered (SGIs always are).
    public var edgeTriggered = false
    /// Held in one of the target vCPU's list registers: the LR owns pending/active then.
    public var inListRegister = false
    /// While `inListRegister`: the state that list register showed when last read back
    /// (`ListRegisterFile.fold`), so that GICD/GICR_IS{PEND,ACTIVE}R read what the guest did
    /// with it (an acknowledged interrupt is active, not pending, as on hardware).
    public var listRegisterPending = false
    public var listRegisterActive = false
    /// For a level-sensitive interrupt driven by an emulated device: the line's level. It is
    /// pending while high, and pending again when the guest completes it with the line still high.
    public var lineHigh = false
    /// Backed by a physical SPI passed through to the guest: the hypervisor masks the physical
    /// one while the guest handles it and wants to know when the guest completes it.
    public var passthrough = false
    /// GICv2 GICD_ITARGETSR<n> of an SPI as the guest wrote it: a CPU mask (read back).
    public var targets: UInt8 = 0
    public init() {}
}
