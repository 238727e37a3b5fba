/// What the hypervisor needs to know about the machine, read from the DTB the boot loader
/// passed in x0. Nothing here is a fixed address: a board with another map works unchanged.
/// (Strings are compared as bytes: Embedded Swift's String == needs Unicode tables.)
public struct HostPlatform {
    /// Every memory node's range; `reservedMemory` lists what in them is not ours to allocate.
    public var ram: [AddressRange<HostPhysicalAddress>] = []
    /// /memreserve/, /reserved-memory and spin-table release addresses (HostPlatform+Boards).
    public var reservedMemory: [AddressRange<HostPhysicalAddress>] = []
    public var uart: AddressRange<HostPhysicalAddress>?
    public var uartModel: UARTModel = .pl011
    /// INTID of the console UART's interrupt (its node's first `interrupts` entry).
    public var uartINTID: UInt32?
    /// The GIC architecture of the host's interrupt controller node.
    public var gicVersion: GICVersion?
    public var gicDistributor: AddressRange<HostPhysicalAddress>?
    /// GICv3: the redistributor region.
    public var gicRedistributors: AddressRange<HostPhysicalAddress>?
    /// GICv2: the CPU interface (GICC), virtual interface control (GICH) and virtual CPU
    /// interface (GICV) frames, the node's second to fourth `reg` entries.
    public var gicCPUInterface: AddressRange<HostPhysicalAddress>?
    public var gicHypervisorInterface: AddressRange<HostPhysicalAddress>?
    public var gicVirtualCPUInterface: AddressRange<HostPhysicalAddress>?
    /// INTID of the EL2 physical timer (CNTHP), from the timer node's fourth interrupt.
    public var hypervisorTimerINTID: UInt32?
    /// INTID of the EL1 virtual timer, from the timer node's third interrupt.
    public var virtualTimerINTID: UInt32?
    /// INTID of the GIC maintenance interrupt, from the GIC node's `interrupts`.
    public var maintenanceINTID: UInt32?
    /// The PMU's overflow interrupt when it is a PPI (`arm,armv8-pmuv3`):
    /// QEMU virt's PPI 7 (INTID 23). Boards that wire each core's PMU to an SPI have none here.
    public var pmuINTID: UInt32?
    public var cpuMPIDRs: [UInt64] = []
    /// Each CPU's MPIDR and how it is started (PSCI or spin table).
    public var cpus: [HostCPU] = []
    /// The BCM2835 power-management watchdog, used to stop a machine without PSCI.
    public var powerManagementWatchdog: AddressRange<HostPhysicalAddress>?
    /// A PL031 real-time clock (`arm,pl031`, QEMU virt's host time), for guests' wallclock.
    public var realTimeClock: AddressRange<HostPhysicalAddress>?
    public enum PSCIConduit: Equatable { case smc, hvc }
    public var psciConduit: PSCIConduit?
    public var bootArguments: String = ""

    public init() {}

    public init(deviceTree dt: DeviceTree) {
        // RAM, reservations, console UART, CPUs and the reset block (HostPlatform+Boards.swift).
        readBoard(dt)

        // The GIC's regions in CPU addresses (the Pi's sit behind /soc's `ranges`).
        if let gic = dt.nodes(compatibleWith: "arm,gic-v3").first {
            let regs = dt.translatedReg(gic) ?? []
            maintenanceINTID = Self.firstINTID(gic)
            if regs.count >= 2 {
                gicVersion = .v3
                gicDistributor = .init(base: HostPhysicalAddress(regs[0].address), size: regs[0].size)
                gicRedistributors = .init(base: HostPhysicalAddress(regs[1].address), size: regs[1].size)
            }
        } else if let gic = Self.gicv2Node(dt) {
            // reg = <GICD, GICC, GICH, GICV> (devicetree binding arm,gic; GICH and GICV only
            // with the virtualization extensions, which swiftvisor needs).
            let regs = dt.translatedReg(gic) ?? []
            maintenanceINTID = Self.firstINTID(gic)
            if regs.count >= 4 {
                gicVersion = .v2
                gicDistributor = .init(base: HostPhysicalAddress(regs[0].address), size: regs[0].size)
                gicCPUInterface = .init(base: HostPhysicalAddress(regs[1].address), size: regs[1].size)
                gicHypervisorInterface = .init(base: HostPhysicalAddress(regs[2].address), size: regs[2].size)
                gicVirtualCPUInterface = .init(base: HostPhysicalAddress(regs[3].address), size: regs[3].size)
            }
        }
        // interrupts = <secure-phys, non-secure-phys, virt, hyp>, 3 cells each (type, number, flags).
        if let timer = dt.nodes(compatibleWith: "arm,armv8-timer").first,
           let ints = timer.property("interrupts"), let type = ints.u32(9), let number = ints.u32(10) {
            hypervisorTimerINTID = type == 1 ? number + 16 : number + 32
            if let vtype = ints.u32(6), let vnumber = ints.u32(7) { virtualTimerINTID = vtype == 1 ? vnumber + 16 : vnumber + 32 }
        }
        if let pmu = dt.nodes(compatibleWith: "arm,armv8-pmuv3").first,
           let ints = pmu.property("interrupts"), ints.u32(0) == 1, let number = ints.u32(1) {
            pmuINTID = number + 16
        }
        for compatible in ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"] {
            if let psci = dt.nodes(compatibleWith: compatible).first, let method = psci.property("method") {
                psciConduit = method.containsString("hvc") ? .hvc : .smc
                break
            }
        }
        bootArguments = dt.node(path: "/chosen")?.property("bootargs")?.string ?? ""
    }

    /// What swiftvisor cannot run without and the host device tree does not give, in words
    /// (the boot stops and names each one).
    public var missingEssentials: [StaticString] {
        var missing: [StaticString] = []
        if !ram.contains(where: { $0.size > 0 }) { missing.append("RAM (no memory node with a non-empty reg)") }
        if gicVersion == nil {
            missing.append("interrupt controller it knows (an arm,gic-v3 node with distributor and redistributor regions, or an arm,gic-400/arm,cortex-a15-gic node with GICD, GICC, GICH and GICV regions)")
        }
        if uart == nil { missing.append("console UART (/chosen/stdout-path, serial0 or a node compatible with arm,pl011 or cdns,uart-r1p12)") }
        return missing
    }

    /// Compatible strings of GICv2 nodes with virtualization extensions: the GIC-400 of real
    /// boards and what QEMU `virt` (gic-version=2) calls its GICv2.
    static let gicv2Compatibles = ["arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a7-gic"]

    static func gicv2Node(_ dt: DeviceTree) -> DeviceTreeNode? {
        for c in gicv2Compatibles { if let n = dt.nodes(compatibleWith: c).first { return n } }
        return nil
    }

    /// The INTID of a node's first `interrupts` entry (type 1 = PPI, else SPI).
    static func firstINTID(_ node: DeviceTreeNode) -> UInt32? {
        guard let ints = node.property("interrupts"), let type = ints.u32(0), let number = ints.u32(1) else { return nil }
        return type == 1 ? number + 16 : number + 32
    }

    /// The value of `key=` in the boot arguments, parsed as a hexadecimal or decimal number.
    public func bootArgument(_ key: String) -> UInt64? {
        for word in bootArguments.utf8.split(separator: UInt8(ascii: " ")) {
            let parts = word.split(separator: UInt8(ascii: "="), maxSplits: 1)
            guard parts.count == 2, parts[0].elementsEqual(key.utf8) else { continue }
            return parseNumber(parts[1])
        }
        return nil
    }
}

/// Parses "0x1f" or "31".
public func parseNumber<C: Collection>(_ text: C) -> UInt64? where C.Element == UInt8 {
    var digits = Array(text)
    var radix: UInt64 = 10
    if digits.count > 2 && digits[0] == UInt8(ascii: "0") && (digits[1] | 0x20) == UInt8(ascii: "x") {
        radix = 16; digits.removeFirst(2)
    }
    guard !digits.isEmpty else { return nil }
    var v: UInt64 = 0
    for c in digits {
        let d: UInt64
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: d = UInt64(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: d = UInt64(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
        let (m, o1) = v.multipliedReportingOverflow(by: radix)
        let (s, o2) = m.addingReportingOverflow(d)
        if o1 || o2 { return nil }
        v = s
    }
    return v
}
