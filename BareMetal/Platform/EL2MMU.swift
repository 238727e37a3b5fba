import CArch
import SwiftvisorCore

/// Translation-table memory addressed through the identity map (or with the MMU off).
struct IdentityMappedTables: TranslationTableMemory {
    var allocator: UnsafeMutablePointer<PhysicalRangeAllocator>

    mutating func allocateTable() -> HostPhysicalAddress? {
        guard let page = allocator.pointee.allocate(size: PageSize.granule, alignment: PageSize.granule) else { return nil }
        // SAFETY: the page was just handed out by the allocator and is identity mapped.
        UnsafeMutableRawPointer(bitPattern: UInt(page.rawValue))!.initializeMemory(as: UInt64.self, repeating: 0, count: 512)
        return page
    }

    func readDescriptor(table: HostPhysicalAddress, index: Int) -> UInt64 {
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(table.rawValue))![index]
    }

    mutating func writeDescriptor(table: HostPhysicalAddress, index: Int, _ descriptor: UInt64) {
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(table.rawValue))![index] = descriptor
    }
}

/// The hypervisor's EL2 stage-1 identity map: RAM as Normal cacheable memory, the devices it
/// drives as Device-nGnRE, nothing else (Arm ARM D8.2).
enum EL2MMU {
    static func enable(platform: HostPlatform, processor: Processor,
                       allocator: UnsafeMutablePointer<PhysicalRangeAllocator>) {
        guard var table = TranslationTable(memory: IdentityMappedTables(allocator: allocator), startLevel: 0) else {
            Console.log("PANIC: no memory for the EL2 page tables\n"); Firmware.systemOff(conduit: Firmware.psciConduit)
        }
        let regime = EL2Mode.regime
        let ram = EL2Stage1Attributes(memory: .normal, executable: true, regime: regime)
        let device = EL2Stage1Attributes(memory: .device, executable: false, regime: regime)
        do {
            for r in platform.ram { try table.map(input: r.base.rawValue, output: r.base, size: r.size, attributes: ram) }
            // GICv3: distributor and redistributors; GICv2: distributor, GICC and GICH (GICV is the guests').
            for r in [platform.uart, platform.gicDistributor, platform.gicRedistributors, platform.gicCPUInterface, platform.gicHypervisorInterface] {
                guard let r else { continue }
                let base = alignDown(r.base.rawValue, PageSize.granule)
                let size = alignUp(r.end.rawValue, PageSize.granule) - base
                try table.map(input: base, output: HostPhysicalAddress(base), size: size, attributes: device)
            }
            // The Raspberry Pi's PM watchdog: how a machine without PSCI is stopped.
            for r in [platform.powerManagementWatchdog, platform.realTimeClock] {
                guard let r else { continue }
                let base = alignDown(r.base.rawValue, PageSize.granule)
                let size = alignUp(r.end.rawValue, PageSize.granule) - base
                try table.map(input: base, output: HostPhysicalAddress(base), size: size, attributes: device)
            }
        } catch {
            // E.g. a memory node that covers a device the hypervisor drives (QEMU's xlnx-zcu102
            // with more than 2 GiB writes one range from 0 over its peripherals).
            Console.log("PANIC: building the EL2 identity map failed (does RAM overlap a device?)\n")
            Firmware.systemOff(conduit: Firmware.psciConduit)
        }
        write_mair_el2(MAIR.el2)
        // TCR_EL2: 48-bit VA, Write-Back Inner Shareable walks, 4 KiB granule, output size from
        // PARange, in the layout HCR_EL2.E2H gives it (EL2Regime.tcr).
        write_tcr_el2(regime.tcr(outputSize: processor.outputSizeEncoding).rawValue)
        write_ttbr0_el2(table.root.rawValue)
        dsb_sy()
        tlbi_alle2()
        // SCTLR_EL2: MMU, caches and SP alignment checks on, above the RES1 bits; valid in
        // both layouts (SCTLR.el2).
        write_sctlr_el2(SCTLR.el2.rawValue)
        isb()
    }
}
