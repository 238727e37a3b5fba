/// A List Register of the virtual CPU interface, kept in the GICv3 ICH_LR<n>_EL2 layout
/// (IHI0069 12.4.6), which is the hardware's own on a GICv3; a GICv2's 32-bit GICH_LR<n>
/// converts to and from it (`ListRegister+GICv2.swift`).
public struct ListRegister: Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// State, bits 63:62.
    public enum State: UInt64 { case invalid = 0, pending = 1, active = 2, pendingAndActive = 3 }

    public var state: State { State(rawValue: rawValue >> 62)! }
    /// vINTID, bits 31:0.
    public var virtualINTID: UInt32 { UInt32(truncatingIfNeeded: rawValue) }
    /// Priority, bits 55:48.
    public var priority: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 48) }

    /// Group, bit 60: Group 1 (a GICv3 guest's interrupts; a GICv2 guest's as IGROUPR says).
    public var group1: Bool { rawValue & 1 << 60 != 0 }
    /// HW, bit 61: linked to a physical interrupt, which the guest's deactivation of the
    /// virtual one deactivates (IHI0069 4.9; swiftvisor links the virtual timer's PPI).
    public var hardware: Bool { rawValue & 1 << 61 != 0 }
    /// pINTID, bits 44:32 (HW = 1): the physical interrupt deactivated with this one.
    public var physicalINTID: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) & 0x1FFF }
    /// EOI, bit 41 (HW = 0): a maintenance interrupt when the guest deactivates it.
    public var notifiesOnCompletion: Bool { !hardware && rawValue & 1 << 41 != 0 }

    /// A pending interrupt of group `group1` (Group bit 60), not linked to a physical one
    /// (HW = 0). With `notifyOnCompletion`, EOI (bit 41) asks for a maintenance interrupt when
    /// the guest deactivates it.
    public static func pending(_ intid: UInt32, priority: UInt8, group1: Bool = true, notifyOnCompletion: Bool = false) -> ListRegister {
        ListRegister(rawValue: State.pending.rawValue << 62 | (group1 ? 1 << 60 : 0) | UInt64(priority) << 48
                     | (notifyOnCompletion ? 1 << 41 : 0) | UInt64(intid))
    }

    /// A pending interrupt linked to physical interrupt `physical` (HW = 1, pINTID): the
    /// guest's deactivation deactivates the physical one too (IHI0069 4.9.1), as KVM links
    /// the timers' PPIs.
    public static func pending(_ intid: UInt32, priority: UInt8, group1: Bool = true, linkedTo physical: UInt32) -> ListRegister {
        ListRegister(rawValue: State.pending.rawValue << 62 | 1 << 61 | (group1 ? 1 << 60 : 0) | UInt64(priority) << 48
                     | UInt64(physical & 0x1FFF) << 32 | UInt64(intid))
    }

    public static let empty = ListRegister(rawValue: 0)
}

/// A vCPU's list registers and which interrupt each holds. `refresh` reconciles them with the
/// distributor model after the guest ran, then loads the highest-priority deliverable
/// interrupts, evicting lower-priority pending ones if needed.
public struct ListRegisterFile: Equatable {
    public var registers: [ListRegister]
    /// INTID each register was loaded with (the hardware may clear it once invalid).
    public private(set) var owners: [UInt32?]
    /// Bit n set when `refresh` changed register n: only those need writing to hardware.
    public private(set) var changed: UInt16 = 0
    /// Bit n set when `refresh` found passed-through SPI 32+n completed by the guest: the
    /// hypervisor unmasks the physical SPI again.
    public private(set) var completedPassthrough: UInt64 = 0
    /// The virtual interrupt loaded with the HW bit, and the physical INTID it is linked to
    /// (the virtual timer's PPI; `InterruptController.spurious`: none).
    public var linkedVirtualINTID: UInt32 = 1023
    public var linkedPhysicalINTID: UInt32 = 1023
    /// Registers `withdraw` emptied: written to hardware with the next `refresh`'s changes.
    private var withdrawn: UInt16 = 0

    public init(count: Int) {
        registers = Array(repeating: .empty, count: count)
        owners = Array(repeating: nil, count: count)
    }

    /// Bit n set when list register n holds an interrupt.
    public var inUseMask: UInt16 {
        var m: UInt16 = 0
        for (i, o) in owners.enumerated() where o != nil { m |= 1 << UInt16(i) }
        return m
    }

    /// Returns true when interrupts are still waiting for a free register: the caller then
    /// asks for the underflow maintenance interrupt (ICH_HCR_EL2.UIE).
    public mutating func refresh(_ gic: inout VirtualGIC, vcpu: Int) -> Bool {
        changed = withdrawn
        withdrawn = 0
        completedPassthrough = 0
        // 1. What the guest did with the interrupts we gave it.
        for i in registers.indices {
            guard let intid = owners[i] else { continue }
            let s = registers[i].state
            if s == .invalid {
                if intid >= 32, intid < 96, gic.state(intid, vcpu: vcpu)?.passthrough == true {
                    completedPassthrough |= 1 << UInt64(intid - 32)
                }
                gic.returnFromListRegister(intid, vcpu: vcpu, pending: false, active: false)
                owners[i] = nil
                registers[i] = .empty
                changed |= 1 << UInt16(i)
            } else if s == .pending, gic.state(intid, vcpu: vcpu)?.pending == true {
                // Raised again before the guest took the first one: one pending state.
                gic.coalesce(intid, vcpu: vcpu)
            }
        }
        // 2. Fill free registers, best first; evict pending-only registers of lower priority.
        while let next = gic.bestDeliverable(vcpu: vcpu) {
            if let free = owners.firstIndex(where: { $0 == nil }) {
                load(next, into: free, &gic, vcpu: vcpu)
                continue
            }
            // The lowest-priority (highest value) register still only pending.
            var victim: Int?
            for i in registers.indices where registers[i].state == .pending {
                if victim == nil || registers[i].priority > registers[victim!].priority { victim = i }
            }
            guard let v = victim, registers[v].priority > next.priority, let old = owners[v] else {
                return true   // still waiting: ask for the underflow maintenance interrupt
            }
            // Load first, so the evicted interrupt cannot be chosen again in this refresh;
            // it competes again in a later one.
            load(next, into: v, &gic, vcpu: vcpu)
            gic.returnFromListRegister(old, vcpu: vcpu, pending: true, active: false)
        }
        return false
    }

    private mutating func load(_ i: (intid: UInt32, priority: UInt8), into slot: Int, _ gic: inout VirtualGIC, vcpu: Int) {
        gic.moveToListRegister(i.intid, vcpu: vcpu)
        let s = gic.state(i.intid, vcpu: vcpu)
        registers[slot] = i.intid == linkedVirtualINTID
            ? .pending(i.intid, priority: i.priority, group1: s?.group1 ?? true, linkedTo: linkedPhysicalINTID)
            : .pending(i.intid, priority: i.priority, group1: s?.group1 ?? true, notifyOnCompletion: s?.passthrough ?? false)
        owners[slot] = i.intid
        changed |= 1 << UInt16(slot)
    }

    /// A level-sensitive line fell: a register still holding `intid` only pending (the guest
    /// has not taken it) is emptied, so the interrupt is no longer pending, as on hardware
    /// (an active one stays: the guest is handling it). Needs the registers read back first.
    public mutating func withdraw(_ intid: UInt32, _ gic: inout VirtualGIC, vcpu: Int) {
        for i in registers.indices where owners[i] == intid && registers[i].state == .pending {
            gic.returnFromListRegister(intid, vcpu: vcpu, pending: false, active: false)
            owners[i] = nil
            registers[i] = .empty
            withdrawn |= 1 << UInt16(i)
        }
    }

    /// Tells the distributor model what each register shows (pending, active or both), for
    /// the guest's reads of the pending and active registers. Needs the registers read back
    /// first; kept off `refresh`, which runs on every injection, as only those reads need it.
    public func fold(into gic: inout VirtualGIC, vcpu: Int) {
        for i in registers.indices {
            guard let intid = owners[i], registers[i].state != .invalid else { continue }
            gic.noteListRegister(intid, vcpu: vcpu, registers[i].state)
        }
    }

    /// After a `refresh`: does the vCPU have an interrupt pending (for WFI)?
    public func hasPending(_ gic: VirtualGIC, vcpu: Int) -> Bool {
        registers.contains { $0.state == .pending || $0.state == .pendingAndActive } || gic.bestDeliverable(vcpu: vcpu) != nil
    }
}
