/// Distributor and redistributor accesses through the device path: which widths each register
/// takes and how 64-bit and sub-word accesses map onto the 32-bit register model
/// (`VirtualGIC+Registers.swift`).
extension VirtualGIC {
    /// GICD_IPRIORITYR<n> (0x400-0x7FF) and GICR_IPRIORITYR<n> (SGI_base + 0x400, 32 INTIDs).
    static func isPriorityRegister(_ offset: UInt64, redistributor: Bool) -> Bool {
        redistributor ? GICRedistributorRegister.priorities.contains(offset) : GICDistributorRegister.ipriorityr.bank.contains(offset)
    }

    /// Widths a register takes: words and doublewords (two words, or a 64-bit register)
    /// everywhere; bytes and halfwords only in the priority registers (IHI0069 12.1.3; IROUTER
    /// bytes are not offered). Others are bad widths: RAZ/WI.
    public static func accessWidths(offset: UInt64, redistributor: Bool) -> AccessWidths {
        isPriorityRegister(offset, redistributor: redistributor) ? .all : AccessWidths.word.union(.doubleword)
    }

    public mutating func distributorAccess(_ a: MMIOAccess) -> (read: UInt64, effect: Effect) {
        access(a, frame: nil)
    }

    /// An access to the redistributor frame pair of vCPU `frame`, at `a.offset` into it.
    public mutating func redistributorAccess(frame: Int, _ a: MMIOAccess) -> (read: UInt64, effect: Effect) {
        access(a, frame: frame)
    }

    /// GICD_IROUTER<n> of the SPIs, 64-bit registers at 0x6100 + 8n.
    private static func isRouter(_ offset: UInt64) -> Bool { offset >= firstSPIRouter && offset < GICDistributorRegister.irouter.bank.upperBound }

    private mutating func access(_ a: MMIOAccess, frame: Int?) -> (read: UInt64, effect: Effect) {
        let distributor = frame == nil
        guard Self.accessWidths(offset: a.offset, redistributor: !distributor).allows(a.width) else { return (0, Effect()) }
        let offset = a.offset
        if a.isWrite {
            var effect = Effect()
            switch a.width {
            case 8 where distributor && offset >= Self.firstSPIRouter:
                effect = distributorWrite64(offset: offset, value: a.value)
            case 8:
                effect = write32(offset, UInt32(truncatingIfNeeded: a.value), frame: frame)
                effect.kick += write32(offset + 4, UInt32(truncatingIfNeeded: a.value >> 32), frame: frame).kick
            case 4 where distributor && Self.isRouter(offset):
                // Half of an IROUTER (a 64-bit register written as two words, IHI0069 12.1.3):
                // the register with that half replaced, written whole, so either half
                // re-routes and kicks as a 64-bit write does.
                let register = offset & ~7, old = distributorRead64(offset: register) ?? 0
                let value = offset & 4 == 0 ? old & ~0xFFFF_FFFF | a.value & 0xFFFF_FFFF : old & 0xFFFF_FFFF | a.value << 32
                effect = distributorWrite64(offset: register, value: value)
            case 4:
                effect = write32(offset, UInt32(truncatingIfNeeded: a.value), frame: frame)
            default:
                // A byte or halfword of a priority register: read-modify-write its word.
                effect = write32(a.wordOffset, a.merged(into: read32(a.wordOffset, frame: frame)), frame: frame)
            }
            return (0, effect)
        }
        switch a.width {
        case 8 where distributor && offset >= Self.firstSPIRouter:
            if let v = distributorRead64(offset: offset) { return (v, Effect()) }
            fallthrough
        case 8:
            return (UInt64(read32(offset, frame: frame)) | UInt64(read32(offset + 4, frame: frame)) << 32, Effect())
        case 4 where distributor && Self.isRouter(offset):
            return (offset & 4 == 0 ? (distributorRead64(offset: offset) ?? 0) : 0, Effect())
        case 4:
            return (UInt64(read32(offset, frame: frame)), Effect())
        default:
            return (a.lanes(of: read32(a.wordOffset, frame: frame)), Effect())
        }
    }

    private func read32(_ offset: UInt64, frame: Int?) -> UInt32 {
        guard let frame else { return distributorRead(offset: offset) }
        return redistributorRead(vcpu: frame, offset: offset)
    }

    private mutating func write32(_ offset: UInt64, _ value: UInt32, frame: Int?) -> Effect {
        guard let frame else { return distributorWrite(offset: offset, value: value) }
        return redistributorWrite(vcpu: frame, offset: offset, value: value)
    }
}
