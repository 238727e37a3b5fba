/// The parts of the host device tree that differ from board to board: RAM with its holes and
/// reservations, the console UART's model, each CPU's enable method, and how to stop the
/// machine where there is no PSCI. Every `reg` is translated through its parents' `ranges`
/// (Raspberry Pi 4: /soc's bus address 0x7e201000 is the CPU's 0xfe201000).

/// The console UARTs swiftvisor has a driver for, picked by `compatible`.
public enum UARTModel: Equatable {
    /// Arm PrimeCell UART (PL011), `arm,pl011`: QEMU virt, Raspberry Pi 4.
    case pl011
    /// Cadence UART, `cdns,uart-r1p12` or `xlnx,xuartps`: Zynq UltraScale+ (ZCU102).
    case cadence

    static let compatibles: [(compatible: String, model: UARTModel)] = [
        ("arm,pl011", .pl011), ("cdns,uart-r1p12", .cadence), ("xlnx,xuartps", .cadence),
    ]

    /// The model of a node whose `compatible` names one swiftvisor drives.
    static func of(_ node: DeviceTreeNode) -> UARTModel? {
        guard let compatible = node.property("compatible") else { return nil }
        return compatibles.first(where: { compatible.containsString($0.compatible) })?.model
    }
}

/// How a secondary CPU is started (Linux Documentation/arch/arm64/booting.rst, 5).
public enum CPUEnableMethod: Equatable {
    /// PSCI CPU_ON through the conduit of the /psci node.
    case psci
    /// The CPU waits in WFE at boot and branches to the address written at `releaseAddress`.
    case spinTable(releaseAddress: UInt64)
}

/// One CPU of /cpus.
public struct HostCPU: Equatable {
    /// MPIDR_EL1 affinity fields, from `reg`.
    public var mpidr: UInt64
    /// nil when the tree gives no method swiftvisor knows: the CPU is not started.
    public var enableMethod: CPUEnableMethod?

    public init(mpidr: UInt64, enableMethod: CPUEnableMethod?) { self.mpidr = mpidr; self.enableMethod = enableMethod }
}

extension HostPlatform {
    /// RAM: every memory node's `reg` with a size (QEMU fills in the size a board's DTB leaves 0).
    static func memory(in dt: DeviceTree, _ all: [DeviceTreeNode]) -> [AddressRange<HostPhysicalAddress>] {
        var ram: [AddressRange<HostPhysicalAddress>] = []
        for i in all.indices where all[i].property("device_type")?.containsString("memory") ?? false {
            for r in dt.translatedReg(of: i, in: all) ?? [] where r.size > 0 {
                ram.append(.init(base: HostPhysicalAddress(r.address), size: r.size))
            }
        }
        return ram
    }

    /// What no allocation may use: the header's /memreserve/ entries, every /reserved-memory
    /// child with a `reg` (disabled ones too: firmware may still own them), the 8 bytes of
    /// each spin-table release address (the parked cores read them), and the page at physical
    /// address 0 where RAM starts there (ZynqMP, Raspberry Pi): the identity map makes it the
    /// null pointer, which Swift cannot hold in a non-optional pointer.
    static func reservations(in dt: DeviceTree, _ all: [DeviceTreeNode], cpus: [HostCPU]) -> [AddressRange<HostPhysicalAddress>] {
        var reserved = dt.memoryReservations.filter { $0.size > 0 }.map { AddressRange(base: HostPhysicalAddress($0.address), size: $0.size) }
        reserved.append(.init(base: HostPhysicalAddress(0), size: PageSize.granule))
        if let parent = dt.nodeIndex(path: Array("/reserved-memory".utf8), in: all) {
            for i in all.indices where all[i].parent == parent {
                for r in dt.translatedReg(of: i, in: all) ?? [] where r.size > 0 {
                    reserved.append(.init(base: HostPhysicalAddress(r.address), size: r.size))
                }
            }
        }
        for cpu in cpus {
            if case .spinTable(let address) = cpu.enableMethod { reserved.append(.init(base: HostPhysicalAddress(address), size: 8)) }
        }
        return reserved
    }

    /// The console: the node /chosen/stdout-path names (a path or an alias, options after ':'
    /// dropped), else the `serial0` alias, else the first enabled UART swiftvisor drives; a
    /// candidate counts only if swiftvisor has a driver for it (the Raspberry Pi 4 DTB's
    /// stdout-path names the mini UART, `serial1`; QEMU's console is the PL011, `serial0`).
    static func consoleUART(in dt: DeviceTree, _ all: [DeviceTreeNode]) -> (index: Int, model: UARTModel)? {
        var candidates: [Int] = []
        if let chosen = dt.nodeIndex(path: Array("/chosen".utf8), in: all),
           let path = all[chosen].property("stdout-path")?.bytes.split(separator: 0).first,
           let name = path.split(separator: UInt8(ascii: ":"), maxSplits: 1).first,
           let i = dt.nodeIndex(pathOrAlias: String(decoding: name, as: UTF8.self), in: all) {
            candidates.append(i)
        }
        if let i = dt.nodeIndex(pathOrAlias: "serial0", in: all) { candidates.append(i) }
        for (compatible, _) in UARTModel.compatibles {
            for i in all.indices where all[i].isEnabled && (all[i].property("compatible")?.containsString(compatible) ?? false) {
                candidates.append(i)
            }
        }
        for i in candidates where all[i].isEnabled {
            if let model = UARTModel.of(all[i]), dt.translatedReg(of: i, in: all)?.first != nil { return (i, model) }
        }
        return nil
    }

    /// Every child of /cpus with device_type "cpu": its MPIDR and enable method. A CPU without
    /// `enable-method` is started by PSCI when the tree has a /psci node (QEMU virt's CPUs).
    static func cpus(in dt: DeviceTree, _ all: [DeviceTreeNode], hasPSCI: Bool) -> [HostCPU] {
        guard let parent = dt.nodeIndex(path: Array("/cpus".utf8), in: all) else { return [] }
        var cpus: [HostCPU] = []
        for n in all where n.parent == parent && (n.property("device_type")?.containsString("cpu") ?? false) {
            guard let r = n.reg.first else { continue }
            var method: CPUEnableMethod?
            if let m = n.property("enable-method") {
                if m.containsString("psci") {
                    method = .psci
                } else if m.containsString("spin-table"), let release = n.property("cpu-release-addr") {
                    // One or two cells (booting.rst: a 64-bit location).
                    method = .spinTable(releaseAddress: release.cells(at: 0, count: min(release.bytes.count / 4, 2)))
                }
            } else if hasPSCI {
                method = .psci
            }
            cpus.append(HostCPU(mpidr: r.address, enableMethod: method))
        }
        return cpus
    }

    /// The BCM2835/BCM2711 power-management block with its watchdog (`brcm,bcm2835-pm-wdt`, first
    /// `reg`: RSTC, RSTS, WDOG), the Raspberry Pi's only way to reset or stop: it has no PSCI.
    static func powerManagementWatchdog(in dt: DeviceTree, _ all: [DeviceTreeNode]) -> AddressRange<HostPhysicalAddress>? {
        for i in all.indices where all[i].isEnabled && (all[i].property("compatible")?.containsString("brcm,bcm2835-pm-wdt") ?? false) {
            if let r = dt.translatedReg(of: i, in: all)?.first { return .init(base: HostPhysicalAddress(r.address), size: r.size) }
        }
        return nil
    }

    /// Reads the board-dependent parts into `self` (called by `init(deviceTree:)`).
    mutating func readBoard(_ dt: DeviceTree) {
        let all = dt.nodes()
        ram = Self.memory(in: dt, all)
        if let (index, model) = Self.consoleUART(in: dt, all), let r = dt.translatedReg(of: index, in: all)?.first {
            uart = .init(base: HostPhysicalAddress(r.address), size: r.size)
            uartModel = model
            // interrupts = <type number flags> with the GIC's three cells (type 1 = PPI, 0 = SPI).
            if let ints = all[index].property("interrupts"), let type = ints.u32(0), let number = ints.u32(1) {
                uartINTID = type == 1 ? number + 16 : number + 32
            }
        }
        let hasPSCI = ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"].contains { c in
            all.contains { $0.property("compatible")?.containsString(c) ?? false }
        }
        cpus = Self.cpus(in: dt, all, hasPSCI: hasPSCI)
        cpuMPIDRs = cpus.map { $0.mpidr }
        reservedMemory = Self.reservations(in: dt, all, cpus: cpus)
        powerManagementWatchdog = Self.powerManagementWatchdog(in: dt, all)
        realTimeClock = dt.nodes(compatibleWith: "arm,pl031").first.flatMap { dt.translatedReg($0)?.first }
            .map { AddressRange(base: HostPhysicalAddress($0.address), size: $0.size) }
    }

    /// RAM that allocations may use: `ram` minus `reservedMemory`.
    public var usableRAM: [AddressRange<HostPhysicalAddress>] {
        var allocator = PhysicalRangeAllocator(ram: ram)
        for r in reservedMemory { allocator.reserve(r) }
        return allocator.free
    }
}
