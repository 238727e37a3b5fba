/// Distributor and redistributor register emulation (IHI0069 12.9 and 12.10).
extension VirtualGIC {
    /// GICD_IIDR / GICR_IIDR: implementer 0x43B (Arm), product "sv".
    static let implementer: UInt32 = 0x0076_743B
    /// GICD_PIDR2 / GICR_PIDR2: ArchRev = 3 (GICv3), bits 7:4.
    static let pidr2: UInt32 = 0x3B

    /// What a register write changed that the hypervisor must act on.
    public struct Effect: Equatable {
        /// vCPUs that may now have a deliverable interrupt (wake or refill their LRs).
        public var kick: [Int] = []
        public init() {}
    }

    // MARK: Distributor, 64 KiB at GICD_base

    public func distributorRead(offset: UInt64) -> UInt32 {
        switch offset {
        case 0x0000: return distributorControl
        // GICD_TYPER: ITLinesNumber = SPIs/32, CPUNumber (RES when ARE), IDbits = 9 (10 bits of INTID).
        case 0x0004: return UInt32(spiCount / 32) | UInt32(min(vcpuCount - 1, 7)) << 5 | 9 << 19
        case 0x0008: return Self.implementer
        case 0xFFE8: return Self.pidr2
        case 0x0080..<0x0100: return bitmap(offset - 0x0080, private: nil) { $0.group1 }
        case 0x0100..<0x0180, 0x0180..<0x0200: return bitmap(offset & 0x7F, private: nil) { $0.enabled }
        case 0x0200..<0x0280, 0x0280..<0x0300: return bitmap(offset & 0x7F, private: nil) { $0.pending || $0.inListRegister }
        case 0x0300..<0x0380, 0x0380..<0x0400: return bitmap(offset & 0x7F, private: nil) { $0.active }
        case 0x0400..<0x0800: return priorities(offset - 0x0400, private: nil)
        case 0x0C00..<0x0D00: return configuration(offset - 0x0C00, private: nil)
        default: return 0   // RAZ/WI: registers of features not offered
        }
    }

    /// 64-bit GICD_IROUTER<n> (0x6100 + 8n for SPI n+32); Aff0 selects the vCPU.
    public func distributorRead64(offset: UInt64) -> UInt64? {
        guard offset >= 0x6100, offset < 0x6100 + UInt64(spiCount) * 8, offset & 7 == 0 else { return nil }
        return UInt64(spiRoute[Int((offset - 0x6100) / 8)])
    }

    public mutating func distributorWrite64(offset: UInt64, value: UInt64) -> Effect {
        guard offset >= 0x6100, offset < 0x6100 + UInt64(spiCount) * 8, offset & 7 == 0 else { return Effect() }
        let target = Int(value & 0xFF)
        spiRoute[Int((offset - 0x6100) / 8)] = target < vcpuCount ? target : 0
        return kickAll()
    }

    public mutating func distributorWrite(offset: UInt64, value: UInt32) -> Effect {
        switch offset {
        case 0x0000:
            distributorControl = (value & 0b10) | 1 << 4
            return kickAll()
        case 0x0080..<0x0100: setBitmap(offset - 0x0080, value, private: nil) { s, on in s.group1 = on }
        case 0x0100..<0x0180: setBitmap(offset - 0x0100, value, private: nil, onlySet: true) { s, _ in s.enabled = true }
        case 0x0180..<0x0200: setBitmap(offset - 0x0180, value, private: nil, onlySet: true) { s, _ in s.enabled = false }
        case 0x0200..<0x0280: setBitmap(offset - 0x0200, value, private: nil, onlySet: true) { s, _ in s.pending = true }
        case 0x0280..<0x0300: setBitmap(offset - 0x0280, value, private: nil, onlySet: true) { s, _ in s.pending = false }
        case 0x0300..<0x0380: setBitmap(offset - 0x0300, value, private: nil, onlySet: true) { s, _ in s.active = true }
        case 0x0380..<0x0400: setBitmap(offset - 0x0380, value, private: nil, onlySet: true) { s, _ in s.active = false }
        case 0x0400..<0x0800: setPriorities(offset - 0x0400, value, private: nil)
        case 0x0C00..<0x0D00: setConfiguration(offset - 0x0C00, value, private: nil)
        default: return Effect()
        }
        return kickAll()
    }

    // MARK: Redistributor: RD_base (64 KiB) then SGI_base (64 KiB) per vCPU

    @inlinable public static var redistributorStride: UInt64 { 0x2_0000 }

    public func redistributorRead(vcpu: Int, offset: UInt64) -> UInt32 {
        switch offset {
        case 0x0000: return 0                                  // GICR_CTLR: no LPIs
        case 0x0004: return Self.implementer
        // GICR_TYPER low word: Processor_Number bits 23:8, Last bit 4.
        case 0x0008: return UInt32(vcpu) << 8 | (vcpu == vcpuCount - 1 ? 1 << 4 : 0)
        case 0x000C: return UInt32(vcpu)                       // GICR_TYPER Affinity_Value: Aff0
        case 0x0014: return processorSleep[vcpu] ? 0b110 : 0   // WAKER: ProcessorSleep, ChildrenAsleep
        case 0xFFE8: return Self.pidr2
        case 0x1_0080: return bitmap(0, private: vcpu) { $0.group1 }
        case 0x1_0100, 0x1_0180: return bitmap(0, private: vcpu) { $0.enabled }
        case 0x1_0200, 0x1_0280: return bitmap(0, private: vcpu) { $0.pending || $0.inListRegister }
        case 0x1_0300, 0x1_0380: return bitmap(0, private: vcpu) { $0.active }
        case 0x1_0400..<0x1_0420: return priorities(offset - 0x1_0400, private: vcpu)
        case 0x1_0C00, 0x1_0C04: return configuration(offset - 0x1_0C00, private: vcpu)
        default: return 0   // PROPBASER/PENDBASER and the rest: no LPIs, RAZ/WI
        }
    }

    public mutating func redistributorWrite(vcpu: Int, offset: UInt64, value: UInt32) -> Effect {
        switch offset {
        case 0x0014: processorSleep[vcpu] = value & 0b10 != 0
        case 0x1_0080: setBitmap(0, value, private: vcpu) { s, on in s.group1 = on }
        case 0x1_0100: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.enabled = true }
        case 0x1_0180: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.enabled = false }
        case 0x1_0200: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.pending = true }
        case 0x1_0280: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.pending = false }
        case 0x1_0300: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.active = true }
        case 0x1_0380: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.active = false }
        case 0x1_0400..<0x1_0420: setPriorities(offset - 0x1_0400, value, private: vcpu)
        case 0x1_0C04: setConfiguration(4, value, private: vcpu)   // ICFGR0 (SGIs) is read-only
        default: return Effect()
        }
        var e = Effect()
        e.kick = [vcpu]
        return e
    }

    // MARK: Helpers over 32-interrupt words

    /// INTID of bit 0 of the word at `byteOffset` of a 1-bit-per-interrupt bank.
    private func firstINTID(_ byteOffset: UInt64, private vcpu: Int?) -> UInt32 {
        vcpu != nil ? 0 : UInt32(byteOffset / 4 * 32)
    }

    func bitmap(_ byteOffset: UInt64, private vcpu: Int?, _ bit: (VirtualInterruptState) -> Bool) -> UInt32 {
        let first = firstINTID(byteOffset, private: vcpu)
        guard vcpu != nil || first >= 32 else { return 0 }   // private banks live in the redistributor
        var v: UInt32 = 0
        for i in 0..<32 {
            if let s = state(first + UInt32(i), vcpu: vcpu ?? 0), bit(s) { v |= 1 << UInt32(i) }
        }
        return v
    }

    mutating func setBitmap(_ byteOffset: UInt64, _ value: UInt32, private vcpu: Int?, onlySet: Bool = false,
                                    _ apply: (inout VirtualInterruptState, Bool) -> Void) {
        let first = firstINTID(byteOffset, private: vcpu)
        guard vcpu != nil || first >= 32 else { return }
        for i in 0..<32 {
            let on = value & (1 << UInt32(i)) != 0
            if onlySet && !on { continue }
            update(first + UInt32(i), vcpu: vcpu ?? 0) { apply(&$0, on) }
        }
    }

    func priorities(_ byteOffset: UInt64, private vcpu: Int?) -> UInt32 {
        let first = UInt32(byteOffset & ~3)
        guard vcpu != nil || first >= 32 else { return 0 }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(state(first + UInt32(i), vcpu: vcpu ?? 0)?.priority ?? 0) << UInt32(8 * i) }
        return v
    }

    mutating func setPriorities(_ byteOffset: UInt64, _ value: UInt32, private vcpu: Int?) {
        let first = UInt32(byteOffset & ~3)
        guard vcpu != nil || first >= 32 else { return }
        for i in 0..<4 {
            // Five bits of priority, as ICH_VTR_EL2.PRIbits reports on QEMU and most cores.
            update(first + UInt32(i), vcpu: vcpu ?? 0) { $0.priority = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)) & 0xF8 }
        }
    }

    func configuration(_ byteOffset: UInt64, private vcpu: Int?) -> UInt32 {
        let first = UInt32(byteOffset / 4 * 16)
        guard vcpu != nil || first >= 32 else { return 0 }
        var v: UInt32 = 0
        for i in 0..<16 where state(first + UInt32(i), vcpu: vcpu ?? 0)?.edgeTriggered ?? false { v |= 2 << UInt32(2 * i) }
        return v
    }

    mutating func setConfiguration(_ byteOffset: UInt64, _ value: UInt32, private vcpu: Int?) {
        let first = UInt32(byteOffset / 4 * 16)
        guard first >= 16 else { return }   // SGIs are always edge-triggered
        for i in 0..<16 {
            update(first + UInt32(i), vcpu: vcpu ?? 0) { $0.edgeTriggered = value & (2 << UInt32(2 * i)) != 0 }
        }
    }

    func kickAll() -> Effect {
        var e = Effect()
        e.kick = Array(0..<vcpuCount)
        return e
    }
}
