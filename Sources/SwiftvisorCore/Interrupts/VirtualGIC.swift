/// One VM's virtual GIC distributor (and, for a GICv3, redistributors) as the guest programs
/// them through MMIO: a GICv3 (IHI0069 chapter 12) or a GICv2 (IHI0048B chapter 4,
/// `VirtualGIC+GICv2.swift`), as the host has. The CPU interface is the hardware's (list
/// registers); this model decides which interrupts are pending for which vCPU. No hardware
/// access here.
public struct VirtualGIC {
    public let version: GICVersion
    public let vcpuCount: Int
    /// Number of SPIs (a multiple of 32).
    public let spiCount: Int
    /// GICD_CTLR: EnableGrp1A (bit 1); ARE_NS (bit 4) reads as one (affinity routing only).
    public internal(set) var distributorControl: UInt32 = 1 << 4
    var privates: [[VirtualInterruptState]]
    var spis: [VirtualInterruptState]
    /// GICD_IROUTER<n>: target vCPU of each SPI (Aff0), IRM=0 only. On a GICv2 the lowest
    /// vCPU GICD_ITARGETSR<n> names (-1: none).
    var spiRoute: [Int]
    /// GICR_WAKER.ProcessorSleep per vCPU.
    var processorSleep: [Bool]

    /// SPIs every guest's distributor offers: INTIDs 32-63 (QEMU virt's devices use SPIs 0-31).
    public static let defaultSPICount = 32

    public init(vcpuCount: Int, spiCount: Int = defaultSPICount, version: GICVersion = .v3) {
        self.version = version
        self.vcpuCount = vcpuCount
        self.spiCount = spiCount
        var sgiDefaults = VirtualInterruptState()
        sgiDefaults.edgeTriggered = true
        privates = Array(repeating: Array(repeating: VirtualInterruptState(), count: InterruptID.privateCount), count: vcpuCount)
        for v in 0..<vcpuCount { for i in 0..<InterruptID.sgiCount { privates[v][i] = sgiDefaults } }
        var spiDefaults = VirtualInterruptState()
        spiDefaults.targets = version == .v2 ? 1 : 0   // GICv2: CPU 0, as spiRoute
        spis = Array(repeating: spiDefaults, count: spiCount)
        spiRoute = Array(repeating: 0, count: spiCount)
        processorSleep = Array(repeating: true, count: vcpuCount)
    }

    public var group1Enabled: Bool { distributorControl & 0b10 != 0 }
    /// GICv2 GICD_CTLR.EnableGrp0 (bit 0): a GICv2 guest's interrupts are Group 0 unless it
    /// sets IGROUPR (Linux does not). A GICv3 guest has no Group 0 (it is secure there).
    public var group0Enabled: Bool { version == .v2 && distributorControl & 1 != 0 }

    /// Whether the group `s` belongs to is enabled in the distributor.
    @inline(__always)
    func groupEnabled(_ s: VirtualInterruptState) -> Bool { s.group1 ? group1Enabled : group0Enabled }

    /// The state of `intid` as seen from `vcpu` (private interrupts are per vCPU).
    public func state(_ intid: UInt32, vcpu: Int) -> VirtualInterruptState? {
        if intid < 32 { return privates[vcpu][Int(intid)] }
        let i = Int(intid) - 32
        return i < spiCount ? spis[i] : nil
    }

    mutating func update(_ intid: UInt32, vcpu: Int, _ body: (inout VirtualInterruptState) -> Void) {
        if intid < 32 { body(&privates[vcpu][Int(intid)]); return }
        let i = Int(intid) - 32
        if i < spiCount { body(&spis[i]) }
    }

    /// The vCPU an interrupt is delivered to.
    public func target(of intid: UInt32, vcpu: Int) -> Int { intid < 32 ? vcpu : spiRoute[Int(intid) - 32] }

    /// Makes an interrupt pending (a device line, a timer, an SGI); returns the vCPU to wake
    /// when the interrupt is enabled. (A list register may still hold an earlier instance the
    /// guest has completed since; the target's next `ListRegisterFile.refresh` sorts it out.)
    @discardableResult
    public mutating func raise(_ intid: UInt32, vcpu: Int) -> Int? {
        guard let s = state(intid, vcpu: vcpu) else { return nil }
        update(intid, vcpu: vcpu) { $0.pending = true }
        guard s.enabled && groupEnabled(s) else { return nil }
        let t = target(of: intid, vcpu: vcpu)
        return t >= 0 ? t : nil   // a GICv2 SPI with an empty ITARGETSR goes nowhere
    }

    /// Pending, enabled, not yet in a list register, and its group enabled.
    public func isDeliverable(_ intid: UInt32, vcpu: Int) -> Bool {
        guard let s = state(intid, vcpu: vcpu) else { return false }
        return s.pending && s.enabled && !s.inListRegister && groupEnabled(s)
    }

    /// The highest-priority (lowest value, then lowest INTID) deliverable interrupt of `vcpu`.
    /// One scan and no allocation: this runs on the way into the guest.
    public func bestDeliverable(vcpu: Int) -> (intid: UInt32, priority: UInt8)? {
        // One scan per architecture, so a GICv3's needs no per-interrupt group choice.
        if version == .v3 { return group1Enabled ? best(vcpu: vcpu) { $0.group1 } : nil }
        let g1 = group1Enabled, g0 = group0Enabled
        guard g1 || g0 else { return nil }
        return best(vcpu: vcpu) { $0.group1 ? g1 : g0 }
    }

    @inline(__always)
    private func best(vcpu: Int, _ groupEnabled: (VirtualInterruptState) -> Bool) -> (intid: UInt32, priority: UInt8)? {
        var best: (intid: UInt32, priority: UInt8)?
        privates[vcpu].withUnsafeBufferPointer { p in
            for i in 0..<p.count {
                let s = p[i]
                if s.pending && s.enabled && !s.inListRegister && groupEnabled(s) && (best == nil || s.priority < best!.priority) {
                    best = (UInt32(i), s.priority)
                }
            }
        }
        spis.withUnsafeBufferPointer { p in
            for i in 0..<p.count {
                let s = p[i]
                if s.pending && s.enabled && !s.inListRegister && groupEnabled(s) && spiRoute[i] == vcpu
                    && (best == nil || s.priority < best!.priority) {
                    best = (UInt32(i + 32), s.priority)
                }
            }
        }
        return best
    }

    /// Every deliverable interrupt of `vcpu`, highest priority (lowest value) first, then by INTID.
    public func deliverable(vcpu: Int) -> [(intid: UInt32, priority: UInt8)] {
        guard group1Enabled || group0Enabled else { return [] }
        var result: [(intid: UInt32, priority: UInt8)] = []
        for (i, s) in privates[vcpu].enumerated() where s.pending && s.enabled && !s.inListRegister && groupEnabled(s) {
            result.append((UInt32(i), s.priority))
        }
        for (i, s) in spis.enumerated() where spiRoute[i] == vcpu && s.pending && s.enabled && !s.inListRegister && groupEnabled(s) {
            result.append((UInt32(i + 32), s.priority))
        }
        result.sort { $0.priority != $1.priority ? $0.priority < $1.priority : $0.intid < $1.intid }
        return result
    }

    /// Hands an interrupt to a list register: the LR now holds its pending state.
    public mutating func moveToListRegister(_ intid: UInt32, vcpu: Int) {
        update(intid, vcpu: vcpu) {
            $0.inListRegister = true; $0.pending = false
            $0.listRegisterPending = true; $0.listRegisterActive = false
        }
    }

    /// Records what the list register holding `intid` shows now (see `ListRegisterFile.fold`).
    public mutating func noteListRegister(_ intid: UInt32, vcpu: Int, _ state: ListRegister.State) {
        update(intid, vcpu: vcpu) {
            $0.listRegisterPending = state == .pending || state == .pendingAndActive
            $0.listRegisterActive = state == .active || state == .pendingAndActive
        }
    }

    /// The pending state a guest reads in GICD_ISPENDR/GICR_ISPENDR0 (and their clear twins):
    /// the model's, or a list register's that still shows it pending.
    static func readsPending(_ s: VirtualInterruptState) -> Bool {
        s.pending || s.inListRegister && s.listRegisterPending
    }

    /// The active state a guest reads in GICD_ISACTIVER/GICR_ISACTIVER0 (and their clear twins).
    static func readsActive(_ s: VirtualInterruptState) -> Bool {
        s.active || s.inListRegister && s.listRegisterActive
    }

    /// An emulated device's level-sensitive line (e.g. the PL011's UARTINTR on SPI 1). Returns
    /// the vCPU to wake when the line rises and the interrupt is enabled.
    @discardableResult
    public mutating func setLine(_ intid: UInt32, high: Bool, vcpu: Int = 0) -> Int? {
        guard let s = state(intid, vcpu: vcpu), s.lineHigh != high else { return nil }
        update(intid, vcpu: vcpu) { $0.lineHigh = high }
        if high { return raise(intid, vcpu: vcpu) }
        // Falling: no longer pending (an instance already in a list register stays there).
        update(intid, vcpu: vcpu) { if !$0.inListRegister { $0.pending = false } }
        return nil
    }

    /// Marks an SPI as backed by a physical one (a passed-through device); it starts Group 1.
    public mutating func markPassthrough(_ intid: UInt32) {
        update(intid, vcpu: 0) { $0.passthrough = true }
    }

    /// Drops a model pending state that duplicates one a list register still holds.
    public mutating func coalesce(_ intid: UInt32, vcpu: Int) {
        update(intid, vcpu: vcpu) { $0.pending = false }
    }

    /// Takes an interrupt back from a list register with the state the LR showed.
    public mutating func returnFromListRegister(_ intid: UInt32, vcpu: Int, pending: Bool, active: Bool) {
        update(intid, vcpu: vcpu) {
            $0.inListRegister = false
            // A level-sensitive line still high makes the interrupt pending again.
            $0.pending = $0.pending || pending || (!$0.edgeTriggered && $0.lineHigh)
            $0.active = active
        }
    }
}
