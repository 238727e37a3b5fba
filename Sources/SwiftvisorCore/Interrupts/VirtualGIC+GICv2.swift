/// The GICv2 distributor a guest on a GICv2 host sees (IHI0048B 4.3): one 4 KiB register
/// frame whose registers for INTIDs 0-31 are banked per vCPU, SPI targets as CPU masks in
/// GICD_ITARGETSR, and SGIs sent by writing GICD_SGIR. Its CPU interface is the hardware's
/// GICV frame, mapped in the guest's stage 2.
extension VirtualGIC {
    /// GICD_PIDR2 of a GICv2: ArchRev = 2, bits 7:4.
    static let gicv2PIDR2: UInt32 = 0x2B
    /// GICD_ITARGETSR8, the first SPI's (INTID 32); 0-7 are the read-only private ones.
    static var firstSPITargets: UInt64 { D.itargetsr.offset(of: 32) }

    /// Widths a GICv2 distributor register takes: words everywhere; bytes too in
    /// GICD_IPRIORITYR (0x400-0x7FF) and GICD_ITARGETSR (0x800-0xBFF) (IHI0048B 4.1.4).
    /// Others are bad widths: RAZ/WI.
    public static func gicv2AccessWidths(offset: UInt64) -> AccessWidths {
        // The two banks are contiguous: one range check.
        (D.ipriorityr.rawValue..<D.itargetsr.bank.upperBound).contains(offset) ? AccessWidths.word.union(.byte) : .word
    }

    /// An access by vCPU `vcpu` (banked registers are its own) to the distributor frame.
    public mutating func gicv2DistributorAccess(vcpu: Int, _ a: MMIOAccess) -> (read: UInt64, effect: Effect) {
        guard Self.gicv2AccessWidths(offset: a.offset).allows(a.width) else { return (0, Effect()) }
        if a.isWrite {
            let value = a.width == 4 ? UInt32(truncatingIfNeeded: a.value) : a.merged(into: gicv2DistributorRead(vcpu: vcpu, offset: a.wordOffset))
            return (0, gicv2DistributorWrite(vcpu: vcpu, offset: a.wordOffset, value: value))
        }
        let word = gicv2DistributorRead(vcpu: vcpu, offset: a.wordOffset)
        return (a.width == 4 ? UInt64(word) : a.lanes(of: word), Effect())
    }

    /// The bank a 1-bit-per-interrupt register word at `byteOffset` belongs to: word 0
    /// (INTIDs 0-31) is the vCPU's own.
    private func bank(_ byteOffset: UInt64, _ vcpu: Int, wordsOfPrivate: UInt64 = 4) -> Int? {
        byteOffset < wordsOfPrivate ? vcpu : nil
    }

    public func gicv2DistributorRead(vcpu: Int, offset: UInt64) -> UInt32 {
        switch offset {
        case D.ctlr.rawValue: return GICDistributorControl(rawValue: distributorControl).intersection([.enableGroup0, .enableGroup1]).rawValue
        // GICD_TYPER: ITLinesNumber (interrupts = 32 * (N + 1)), CPUNumber, no Security Extensions.
        case D.typer.rawValue: return GICDistributorType(itLinesNumber: UInt32(spiCount / 32), cpuNumber: UInt32(min(vcpuCount - 1, 7))).rawValue
        case D.iidr.rawValue: return Self.implementer
        case D.pidr2GICv2.rawValue: return Self.gicv2PIDR2
        case D.igroupr.bank: return bitmap(offset - D.igroupr.rawValue, private: bank(offset - D.igroupr.rawValue, vcpu)) { $0.group1 }
        case D.isenabler.bank, D.icenabler.bank: return bitmap(offset & 0x7F, private: bank(offset & 0x7F, vcpu)) { $0.enabled }
        case D.ispendr.bank, D.icpendr.bank:
            return bitmap(offset & 0x7F, private: bank(offset & 0x7F, vcpu), Self.readsPending)
        case D.isactiver.bank, D.icactiver.bank: return bitmap(offset & 0x7F, private: bank(offset & 0x7F, vcpu), Self.readsActive)
        case D.ipriorityr.bank:
            return priorities(offset - D.ipriorityr.rawValue, private: bank(offset - D.ipriorityr.rawValue, vcpu, wordsOfPrivate: 32))
        case D.itargetsr.rawValue..<Self.firstSPITargets:
            // GICD_ITARGETSR0-7 read the reading CPU's own mask in every byte (IHI0048B 4.3.12).
            let own = UInt32(1) << UInt32(vcpu & 7)
            return own | own << 8 | own << 16 | own << 24
        case Self.firstSPITargets..<D.itargetsr.bank.upperBound:
            let first = Int(offset - Self.firstSPITargets)
            var v: UInt32 = 0
            for i in 0..<4 where first + i < spiCount { v |= UInt32(spis[first + i].targets) << UInt32(8 * i) }
            return v
        case D.icfgr.bank: return configuration(offset - D.icfgr.rawValue, private: bank(offset - D.icfgr.rawValue, vcpu, wordsOfPrivate: 8))
        default: return 0   // GICD_SGIR is write-only; CPENDSGIR/SPENDSGIR and the rest RAZ/WI
        }
    }

    public mutating func gicv2DistributorWrite(vcpu: Int, offset: UInt64, value: UInt32) -> Effect {
        switch offset {
        case D.ctlr.rawValue:
            distributorControl = GICDistributorControl(rawValue: value).intersection([.enableGroup0, .enableGroup1]).rawValue
            return kickAll()
        case D.igroupr.bank:
            let o = offset - D.igroupr.rawValue
            setBitmap(o, value, private: bank(o, vcpu)) { s, on in s.group1 = on }
        case D.isenabler.bank:
            let o = offset - D.isenabler.rawValue
            setBitmap(o, value, private: bank(o, vcpu), onlySet: true) { s, _ in s.enabled = true }
        case D.icenabler.bank:
            let o = offset - D.icenabler.rawValue
            setBitmap(o, value, private: bank(o, vcpu), onlySet: true) { s, _ in s.enabled = false }
        case D.ispendr.bank:
            let o = offset - D.ispendr.rawValue
            setBitmap(o, value, private: bank(o, vcpu), onlySet: true) { s, _ in s.pending = true }
        case D.icpendr.bank:
            let o = offset - D.icpendr.rawValue
            setBitmap(o, value, private: bank(o, vcpu), onlySet: true) { s, _ in s.pending = false }
        case D.isactiver.bank:
            let o = offset - D.isactiver.rawValue
            setBitmap(o, value, private: bank(o, vcpu), onlySet: true) { s, _ in s.active = true }
        case D.icactiver.bank:
            let o = offset - D.icactiver.rawValue
            setBitmap(o, value, private: bank(o, vcpu), onlySet: true) { s, _ in s.active = false }
        case D.ipriorityr.bank:
            let o = offset - D.ipriorityr.rawValue
            setPriorities(o, value, private: bank(o, vcpu, wordsOfPrivate: 32))
        case Self.firstSPITargets..<D.itargetsr.bank.upperBound:
            let first = Int(offset - Self.firstSPITargets)
            for i in 0..<4 where first + i < spiCount { setTargets(spi: first + i, UInt8(truncatingIfNeeded: value >> UInt32(8 * i))) }
        case D.icfgr.bank:
            let o = offset - D.icfgr.rawValue
            setConfiguration(o, value, private: bank(o, vcpu, wordsOfPrivate: 8))
        case D.sgir.rawValue: return sendSGI(GICv2SGIRequest(value), sender: vcpu)
        default: return Effect()
        }
        return kickAll()
    }

    /// GICD_ITARGETSR<n> of an SPI: delivered to the lowest-numbered vCPU the mask names
    /// (a GICv2 offers it to all of them; the first to acknowledge takes it), none if empty.
    private mutating func setTargets(spi: Int, _ mask: UInt8) {
        let valid = mask & UInt8(truncatingIfNeeded: (1 << min(vcpuCount, 8)) - 1)
        spis[spi].targets = valid
        spiRoute[spi] = valid == 0 ? -1 : valid.trailingZeroBitCount
    }

    /// GICD_SGIR: the SGI made pending on each target; the vCPUs to wake.
    private mutating func sendSGI(_ request: GICv2SGIRequest, sender: Int) -> Effect {
        var e = Effect()
        for target in request.targets(sender: sender, vcpuCount: vcpuCount) {
            if let wake = raise(request.intid, vcpu: target) { e.kick.append(wake) }
        }
        return e
    }
}

/// A guest's write to GICD_SGIR (IHI0048B 4.3.15): SGIINTID 3:0, CPUTargetList 23:16,
/// TargetListFilter 25:24.
public struct GICv2SGIRequest: Equatable {
    public var intid: UInt32
    public enum Filter: UInt32 { case targetList = 0, allButSelf = 1, onlySelf = 2, reserved = 3 }
    public var filter: Filter
    public var targetList: UInt8

    public init(_ v: UInt32) {
        intid = v & 0xF
        filter = Filter(rawValue: v >> 24 & 0b11)!
        targetList = UInt8(truncatingIfNeeded: v >> 16)
    }

    @inlinable public init(intid: UInt32, filter: Filter, targetList: UInt8) {
        self.intid = intid
        self.filter = filter
        self.targetList = targetList
    }

    /// The GICD_SGIR value (NSATT, bit 15, 0).
    @inlinable public var rawValue: UInt32 { intid & 0xF | UInt32(targetList) << 16 | filter.rawValue << 24 }

    /// The vCPU indices (CPU interface numbers) the SGI goes to.
    public func targets(sender: Int, vcpuCount: Int) -> [Int] {
        let n = min(vcpuCount, 8)
        switch filter {
        case .targetList: return (0..<n).filter { targetList & (1 << UInt8($0)) != 0 }
        case .allButSelf: return (0..<n).filter { $0 != sender }
        case .onlySelf: return [sender]
        case .reserved: return []
        }
    }
}
