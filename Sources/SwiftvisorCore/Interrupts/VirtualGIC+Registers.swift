/// Distributor and redistributor register emulation (IHI0069 12.9 and 12.10); offsets and
/// fields from `GICRegisterMap.swift` and `GICRegisterFields.swift`.
extension VirtualGIC {
    typealias D = GICDistributorRegister
    typealias R = GICRedistributorRegister

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
        case D.ctlr.rawValue: return distributorControl
        // GICD_TYPER: ITLinesNumber = SPIs/32, CPUNumber (RES when ARE), IDbits = 9 (10 bits of INTID).
        case D.typer.rawValue:
            return GICDistributorType(itLinesNumber: UInt32(spiCount / 32), cpuNumber: UInt32(min(vcpuCount - 1, 7)), idBits: 9).rawValue
        case D.iidr.rawValue: return Self.implementer
        case D.pidr2.rawValue: return Self.pidr2
        case D.igroupr.bank: return bitmap(offset - D.igroupr.rawValue, private: nil) { $0.group1 }
        case D.isenabler.bank, D.icenabler.bank: return bitmap(offset & 0x7F, private: nil) { $0.enabled }
        case D.ispendr.bank, D.icpendr.bank: return bitmap(offset & 0x7F, private: nil, Self.readsPending)
        case D.isactiver.bank, D.icactiver.bank: return bitmap(offset & 0x7F, private: nil, Self.readsActive)
        case D.ipriorityr.bank: return priorities(offset - D.ipriorityr.rawValue, private: nil)
        case D.icfgr.bank: return configuration(offset - D.icfgr.rawValue, private: nil)
        default: return 0   // RAZ/WI: registers of features not offered
        }
    }

    /// GICD_IROUTER<32>, the first SPI's (0x6100; SPI n at + 8n).
    static var firstSPIRouter: UInt64 { D.irouter.offset(of: 32) }

    /// 64-bit GICD_IROUTER<n> (0x6100 + 8n for SPI n+32); Aff0 selects the vCPU.
    public func distributorRead64(offset: UInt64) -> UInt64? {
        guard offset >= Self.firstSPIRouter, offset < Self.firstSPIRouter + UInt64(spiCount) * 8, offset & 7 == 0 else { return nil }
        return UInt64(spiRoute[Int((offset - Self.firstSPIRouter) / 8)])
    }

    public mutating func distributorWrite64(offset: UInt64, value: UInt64) -> Effect {
        guard offset >= Self.firstSPIRouter, offset < Self.firstSPIRouter + UInt64(spiCount) * 8, offset & 7 == 0 else { return Effect() }
        let target = Int(GICDistributorRoute(rawValue: value).aff0)
        spiRoute[Int((offset - Self.firstSPIRouter) / 8)] = target < vcpuCount ? target : 0
        return kickAll()
    }

    public mutating func distributorWrite(offset: UInt64, value: UInt32) -> Effect {
        switch offset {
        case D.ctlr.rawValue:
            // EnableGrp1 as written; ARE always on (no legacy mode offered).
            distributorControl = GICDistributorControl(rawValue: value).intersection(.enableGroup1).union(.affinityRouting).rawValue
            return kickAll()
        case D.igroupr.bank: setBitmap(offset - D.igroupr.rawValue, value, private: nil) { s, on in s.group1 = on }
        case D.isenabler.bank: setBitmap(offset - D.isenabler.rawValue, value, private: nil, onlySet: true) { s, _ in s.enabled = true }
        case D.icenabler.bank: setBitmap(offset - D.icenabler.rawValue, value, private: nil, onlySet: true) { s, _ in s.enabled = false }
        case D.ispendr.bank: setBitmap(offset - D.ispendr.rawValue, value, private: nil, onlySet: true) { s, _ in s.pending = true }
        case D.icpendr.bank: setBitmap(offset - D.icpendr.rawValue, value, private: nil, onlySet: true) { s, _ in s.pending = false }
        case D.isactiver.bank: setBitmap(offset - D.isactiver.rawValue, value, private: nil, onlySet: true) { s, _ in s.active = true }
        case D.icactiver.bank: setBitmap(offset - D.icactiver.rawValue, value, private: nil, onlySet: true) { s, _ in s.active = false }
        case D.ipriorityr.bank: setPriorities(offset - D.ipriorityr.rawValue, value, private: nil)
        case D.icfgr.bank: setConfiguration(offset - D.icfgr.rawValue, value, private: nil)
        default: return Effect()
        }
        return kickAll()
    }

    // MARK: Redistributor: RD_base (64 KiB) then SGI_base (64 KiB) per vCPU

    @inlinable public static var redistributorStride: UInt64 { GICRedistributorRegister.stride }

    public func redistributorRead(vcpu: Int, offset: UInt64) -> UInt32 {
        switch offset {
        case R.ctlr.rawValue: return 0                         // no LPIs
        case R.iidr.rawValue: return Self.implementer
        // GICR_TYPER, Processor_Number = vCPU, Last on the last one, Affinity_Value = Aff0 = vCPU: low and high word.
        case R.typer.rawValue, R.typer.rawValue + 4:
            let typer = GICRedistributorType(processorNumber: UInt64(vcpu), last: vcpu == vcpuCount - 1, affinityValue: UInt64(vcpu))
            return UInt32(truncatingIfNeeded: offset == R.typer.rawValue ? typer.rawValue : typer.rawValue >> 32)
        case R.waker.rawValue:
            return processorSleep[vcpu] ? GICRedistributorWake([.processorSleep, .childrenAsleep]).rawValue : 0
        case R.pidr2.rawValue: return Self.pidr2
        case R.igroupr0.rawValue: return bitmap(0, private: vcpu) { $0.group1 }
        case R.isenabler0.rawValue, R.icenabler0.rawValue: return bitmap(0, private: vcpu) { $0.enabled }
        case R.ispendr0.rawValue, R.icpendr0.rawValue: return bitmap(0, private: vcpu, Self.readsPending)
        case R.isactiver0.rawValue, R.icactiver0.rawValue: return bitmap(0, private: vcpu, Self.readsActive)
        case R.priorities: return priorities(offset - R.ipriorityr.rawValue, private: vcpu)
        case R.icfgr0.rawValue, R.icfgr1.rawValue: return configuration(offset - R.icfgr0.rawValue, private: vcpu)
        default: return 0   // PROPBASER/PENDBASER and the rest: no LPIs, RAZ/WI
        }
    }

    public mutating func redistributorWrite(vcpu: Int, offset: UInt64, value: UInt32) -> Effect {
        switch offset {
        case R.waker.rawValue: processorSleep[vcpu] = GICRedistributorWake(rawValue: value).contains(.processorSleep)
        case R.igroupr0.rawValue: setBitmap(0, value, private: vcpu) { s, on in s.group1 = on }
        case R.isenabler0.rawValue: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.enabled = true }
        case R.icenabler0.rawValue: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.enabled = false }
        case R.ispendr0.rawValue: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.pending = true }
        case R.icpendr0.rawValue: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.pending = false }
        case R.isactiver0.rawValue: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.active = true }
        case R.icactiver0.rawValue: setBitmap(0, value, private: vcpu, onlySet: true) { s, _ in s.active = false }
        case R.priorities: setPriorities(offset - R.ipriorityr.rawValue, value, private: vcpu)
        case R.icfgr1.rawValue: setConfiguration(R.icfgr1.rawValue - R.icfgr0.rawValue, value, private: vcpu)   // ICFGR0 (SGIs) is read-only
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
