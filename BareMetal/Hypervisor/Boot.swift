import CArch
import SwiftvisorCore

/// The one table of fixed addresses: used only to report a missing or broken DTB, on the
/// QEMU `virt` console. Everything else comes from the device tree.
enum FallbackPlatform {
    static let uart: UInt64 = 0x0900_0000
}

/// Called by entry.S with the MMU off, x0 = DTB and the exception level we were entered at.
@_cdecl("swiftvisor_main")
func swiftvisorMain(_ dtbAddress: UInt64, _ currentEL: UInt64) {
    Heap.arena = UnsafeMutableRawPointer(bitPattern: UInt(heap_start()))
    // SAFETY: the boot loader passes the DTB's physical address; its header states its size.
    guard dtbAddress != 0,
          let header = UnsafeRawPointer(bitPattern: UInt(dtbAddress)),
          let size = DeviceTree.totalSize(header: UnsafeRawBufferPointer(start: header, count: 8)),
          let tree = try? DeviceTree(bytes: UnsafeRawBufferPointer(start: header, count: size)) else {
        Console.uart = .pl011(PL011UART(base: FallbackPlatform.uart))
        Console.log("no valid device tree in x0; boot with x0 = DTB address (arm64 Image protocol)\n")
        halt_forever()
    }
    let platform = HostPlatform(deviceTree: tree)
    Console.uart = HostUART(model: platform.uart == nil ? .pl011 : platform.uartModel,
                            base: platform.uart?.base.rawValue ?? FallbackPlatform.uart)
    // How to stop the machine: PSCI where the DT has it, else the Raspberry Pi's PM watchdog.
    Firmware.psciConduit = platform.psciConduit
    Firmware.watchdog = platform.powerManagementWatchdog.map { BCM2835Watchdog(base: $0.base.rawValue) }
    Console.multiplexed = platform.bootArgument("swiftvisor.mux") == 1
    if let baud = platform.bootArgument("swiftvisor.uart-baud") {
        Console.pacing = UARTLinePacing(baud: baud, counterFrequency: read_cntfrq_el0())
    }
    guard currentEL == 2 else {
        Console.log("entered at EL"); Console.decimal(currentEL)
        Console.write(", but swiftvisor must be entered at EL2 (QEMU: -M virt,virtualization=on). Stopping.\n")
        halt_forever()
    }
    let processor = Processor()
    // Before the MMU: E2H decides how the EL2 translation registers are read.
    EL2Mode.enter(processor: processor, requested: platform.bootArgument("swiftvisor.vhe") == 1)
    printBanner(platform: platform, processor: processor)
    // Never a silent hang: name what the host device tree lacks, then power off.
    let missing = platform.missingEssentials
    if !missing.isEmpty {
        for what in missing { Console.log("PANIC: the host device tree has no "); Console.write(what); Console.write("\n") }
        Console.log("cannot run without it; stopping\n")
        Firmware.systemOff(conduit: platform.psciConduit)
    }
    if platform.bootArgument("swiftvisor.vhe") == 1 && !processor.hasVHE {
        Console.log("swiftvisor.vhe=1 ignored: this CPU has no VHE (ID_AA64MMFR1_EL1.VH = 0)\n")
    }
    BranchPredictorHardening.detect(processor: processor, conduit: platform.psciConduit)

    var allocator = PhysicalRangeAllocator(ram: platform.ram)
    // Firmware's pages: /memreserve/, /reserved-memory, spin-table release addresses.
    for r in platform.reservedMemory { allocator.reserve(r) }
    let imageStart = image_start(), imageEnd = image_end()
    allocator.reserve(.init(base: HostPhysicalAddress(imageStart), size: imageEnd - imageStart))
    allocator.reserve(.init(base: HostPhysicalAddress(dtbAddress), size: UInt64(size)))
    let manifest = readManifest(platform: platform, allocator: &allocator)

    // On the heap, not this stack: stage-2 tables and grant frames are allocated while guests
    // run, long after the boot stack is reused.
    let allocatorPointer = UnsafeMutablePointer<PhysicalRangeAllocator>.allocate(capacity: 1)
    allocatorPointer.initialize(to: allocator)
    do {
        EL2MMU.enable(platform: platform, processor: processor, allocator: allocatorPointer)
        configureEL2(processor: processor)
        XenGuest.startWallclock(platform)
        // Fallbacks are the BSA's recommended PPIs: CNTHP 26, CNTV 27, GIC maintenance 25.
        let timerINTID = platform.hypervisorTimerINTID ?? 26
        let virtualTimerINTID = platform.virtualTimerINTID ?? InterruptID.virtualTimer
        let maintenanceINTID = platform.maintenanceINTID ?? InterruptID.maintenance
        SelfHostedPMU.physicalINTID = platform.pmuINTID
        // The boot core first, then the others the DTB lists with an enable method swiftvisor
        // knows (at most Limits.cores).
        let me = read_mpidr_el1() & 0xFF_00FF_FFFF
        var mpidrs = [me]
        for cpu in platform.cpus where cpu.mpidr != me && mpidrs.count < Limits.cores {
            switch cpu.enableMethod {
            case .psci: mpidrs.append(cpu.mpidr)
            case .spinTable(let release) where platform.ram.contains(where: { $0.contains(HostPhysicalAddress(release)) }):
                mpidrs.append(cpu.mpidr)
            case .spinTable:
                Console.log("CPU "); Console.hex(cpu.mpidr); Console.write(" not used: its cpu-release-addr is outside RAM\n")
            case nil:
                Console.log("CPU "); Console.hex(cpu.mpidr); Console.write(" not used: no enable method swiftvisor knows (psci, spin-table)\n")
            }
        }
        let hv = Hypervisor(platform: platform, cores: mpidrs.count, timerINTID: timerINTID,
                            virtualTimerINTID: virtualTimerINTID, maintenanceINTID: maintenanceINTID)
        VirtualCPUInterface.select(platform)
        TimerLines.physicalVirtualTimerINTID = virtualTimerINTID
        for (index, mpidr) in mpidrs.enumerated() {
            guard let gic = InterruptController(platform: platform, mpidr: mpidr) else {
                Console.log(.panic("no GIC redistributor or CPU interface for CPU "), endLine: false); Console.hex(mpidr); Console.write("\n")
                Firmware.systemOff(conduit: platform.psciConduit)   // never a silent hang
            }
            hv.cores.append(PhysicalCPU(index: index, mpidr: mpidr, interrupts: gic))
        }
        hv.cores[0].install()
        hv.cores[0].interrupts.initialize(enabling: hv.physicalInterrupts)
        VirtualInterrupts.probe()
        Console.log(VirtualCPUInterface.version == .v2 ? "interrupt controller: GICv2, " : "interrupt controller: GICv3, ")
        Console.decimal(UInt64(VirtualInterrupts.listRegisterCount)); Console.write(" list registers; guests get the same\n")
        hv.allocator = allocatorPointer
        hv.devices = manifest?.devices ?? []
        hypervisor = hv
        for (index, guest) in (manifest?.guests ?? []).enumerated() {
            if let vm = GuestBuilder.build(guest, index: index, vmid: VMID(UInt16(index + 1)), processor: processor, platform: platform,
                                           allocator: allocatorPointer) {
                hv.add(vm, affinity: guest.affinity, weight: guest.weight, cap: guest.cap, interrupts: guest.interrupts)
            }
        }
        Console.log("starting "); Console.decimal(UInt64(hv.vms.count)); Console.write(" guest(s) on ")
        Console.decimal(UInt64(hv.cores.count)); Console.write(" core(s)\n")
        hv.startConsoleInput()
        Console.buffered = true   // from here the UART is written outside the lock (ConsoleOutput)
        hypervisor_lock()
        startSecondaryCores(hv)
        let first = hv.scheduleNext(hv.cores[0])
        hypervisor_unlock()
        // SAFETY: the boot stack is not used again once the first guest runs.
        enter_guest_first(first, boot_stack_top())
    }
}

/// Starts every other core, by PSCI CPU_ON or through its spin table as the DT says: each starts
/// at secondary_entry (entry.S) with the boot core's MMU settings, then runs
/// `swiftvisorSecondaryMain`. They wait for the lock held here.
func startSecondaryCores(_ hv: Hypervisor) {
    guard hv.cores.count > 1 else { return }
    secondary_boot_data.ttbr0 = read_ttbr0_el2()
    secondary_boot_data.tcr = read_tcr_el2()
    secondary_boot_data.mair = read_mair_el2()
    secondary_boot_data.sctlr = read_sctlr_el2()
    secondary_boot_data.vbar = read_vbar_el2()
    secondary_boot_data.hcr = Processor.featureTraps.applied(to: EL2Mode.regime.hcr).rawValue
    withUnsafeMutableBytes(of: &secondary_boot_data.stack_top) { stacks in
        // link.ld and arch.h give Limits.cores stacks of 16 KiB.
        for i in 0..<Limits.cores {
            stacks.storeBytes(of: secondary_stacks_end() - UInt64(Limits.cores - 1 - i) * 0x4000, toByteOffset: i * 8, as: UInt64.self)
        }
    }
    // The new core reads this with its MMU and caches off.
    withUnsafeMutablePointer(to: &secondary_boot_data) {
        clean_dcache_to_poc(UInt64(UInt(bitPattern: $0)), UInt64(MemoryLayout<secondary_boot>.size))
    }
    for core in hv.cores.dropFirst() {
        switch hv.platform.cpus.first(where: { $0.mpidr == core.mpidr })?.enableMethod {
        case .spinTable(let releaseAddress):
            // booting.rst 5: the parked core waits in WFE until its release address is non-zero,
            // then branches there at EL2 with the MMU off. Its own entry gives it its index.
            // SAFETY: the release address is in RAM the identity map covers and no allocation
            // hands out (HostPlatform.reservedMemory).
            spin_table_release(releaseAddress, secondary_spin_entry_address(UInt64(core.index)))
        case .psci, nil:
            let status = Firmware.call(.cpuOn64, core.mpidr, secondary_entry_address(), UInt64(core.index),
                                       conduit: hv.platform.psciConduit)
            if status != 0 {
                Console.log("core "); Console.decimal(UInt64(core.index)); Console.write(" (MPIDR "); Console.hex(core.mpidr)
                Console.write(") did not start: PSCI CPU_ON returned "); Console.decimal(status); Console.write("\n")
            }
        }
    }
}

/// A secondary core, MMU on, on its own stack: set up EL2 and its GIC interface, then run vCPUs.
@_cdecl("swiftvisor_secondary_main")
func swiftvisorSecondaryMain(_ index: UInt64) {
    configureEL2(processor: Processor())
    hypervisor_lock()
    let hv = hypervisor.unsafelyUnwrapped
    let core = hv.cores[Int(index)]
    core.install()
    core.interrupts.initialize(enabling: hv.physicalInterrupts)
    let first = hv.scheduleNext(core)
    hypervisor_unlock()
    enter_guest_first(first, secondary_boot_data_stack(Int(index)))
}

func secondary_boot_data_stack(_ index: Int) -> UInt64 {
    withUnsafeBytes(of: &secondary_boot_data.stack_top) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
}

func printBanner(platform: HostPlatform, processor: Processor) {
    Console.write("\nswiftvisor "); Console.write(SwiftvisorVersion.number)
    Console.write(" - a type-1 hypervisor for Arm, in Swift\n")
    Console.log("CPU MIDR "); Console.hex(processor.midr)
    Console.write(", "); EL2Mode.describe(hasVHE: processor.hasVHE)
    Console.write(", PA "); Console.decimal(processor.physicalAddressBits)
    Console.write(" bits, IPA "); Console.decimal(Processor.ipaBits); Console.write(" bits\n")
    var total: UInt64 = 0
    for r in platform.ram { total += r.size }
    Console.log("RAM "); Console.decimal(total >> 20); Console.write(" MiB in ")
    Console.decimal(UInt64(platform.ram.count)); Console.write(" range(s), ")
    Console.decimal(UInt64(platform.cpuMPIDRs.count)); Console.write(" CPU(s), ")
    Console.write(platform.uartModel == .cadence ? "Cadence UART" : "UART"); Console.write(" at ")
    Console.hex(platform.uart?.base.rawValue ?? 0); Console.write("\n")
    // Wherever the boot loader put us: entry.S has relocated the image to run there.
    Console.log("image at "); Console.hex(image_start()); Console.write(", ")
    Console.decimal((image_end() - image_start()) >> 10); Console.write(" KiB with heap and stacks\n")
}

/// The boot manifest named by `swiftvisor.manifest=` in /chosen/bootargs, with it and the
/// images it lists reserved from the allocator.
func readManifest(platform: HostPlatform, allocator: inout PhysicalRangeAllocator) -> BootManifest? {
    func noGuests(_ why: StaticString, count: Int = 0) -> Never {
        Console.log("no guests: "); Console.write(why)
        if count > 0 {
            Console.write(" (it lists "); Console.decimal(UInt64(count)); Console.write(", at most ")
            Console.decimal(UInt64(Limits.guests)); Console.write(")")
        }
        Console.write("\n")
        Console.log(.allGuestsFinished)
        Firmware.systemOff(conduit: platform.psciConduit)
    }
    guard let address = platform.bootArgument("swiftvisor.manifest"),
          let p = UnsafeRawPointer(bitPattern: UInt(address)),
          let size = BootManifest.size(header: UnsafeRawBufferPointer(start: p, count: 16)) else {
        noGuests("no valid boot manifest (swiftvisor.manifest=ADDRESS in bootargs)")
    }
    let manifest: BootManifest
    do { manifest = try BootManifest(bytes: UnsafeRawBufferPointer(start: p, count: size)) } catch {
        if case .tooManyGuests(let count) = error { noGuests("the boot manifest lists too many guests", count: count) }
        noGuests("the boot manifest is damaged")
    }
    // A boot loader that put a module inside the image's .bss, heap or stacks (image_size in
    // the Image header) has already lost it: the image is placed wherever the loader chose.
    let image = AddressRange(base: HostPhysicalAddress(image_start()), size: image_end() - image_start())
    let manifestRange = AddressRange(base: HostPhysicalAddress(address), size: UInt64(size))
    if manifestRange.overlaps(image) || manifest.guests.contains(where: { $0.kernel.overlaps(image) || ($0.ramdisk?.overlaps(image) ?? false) }) {
        noGuests("the boot manifest or a guest image lies inside the hypervisor image (image_size of its Image header)")
    }
    allocator.reserve(manifestRange)
    for g in manifest.guests {
        allocator.reserve(g.kernel)
        if let r = g.ramdisk { allocator.reserve(r) }
    }
    Console.log("guests: "); Console.decimal(UInt64(manifest.guests.count)); Console.write("\n")
    return manifest
}

/// EL2 controls that stay the same for every guest.
func configureEL2(processor: Processor) {
    let regime = EL2Mode.regime
    // TLOR/TERR only where FEAT_LOR/FEAT_RAS exist (RES0 otherwise): `FeatureTraps`.
    SetWay.baseHCR = Processor.featureTraps.applied(to: regime.hcr)
    write_hcr_el2(SetWay.baseHCR.rawValue)
    // VTCR_EL2: 39-bit IPA walked from level 1, Write-Back Inner Shareable, 4 KiB granule,
    // PS from PARange (VTCR.guest).
    write_vtcr_el2(VTCR.guest(outputSize: processor.outputSizeEncoding).rawValue)
    // CPTR_EL2: FP/SIMD not trapped, SVE/SME trapped (layout by E2H: CPTR.guest).
    write_cptr_el2(regime.cptr.rawValue)
    // MDCR_EL2: trap PMU (TPM, TPMCR) and debug (TDA, TDOSA, TDRA) registers; keep HPMN.
    write_mdcr_el2(MDCR.guest(pmcr: read_pmcr_el0()).rawValue)
    SelfHostedDebug.configureCore()
    SelfHostedPMU.configureCore()
    // TPMS/TTRF (SPE, trace filter) only where the CPU has them: set on top, in their own write.
    write_mdcr_el2(Processor.featureTraps.applied(to: MDCR(rawValue: read_mdcr_el2())).rawValue)
    // CNTHCTL_EL2: the guest may read the physical counter (EL1PCTEN) but its physical
    // timer traps (EL1PCEN clear) until it is virtualised (bit positions by E2H).
    write_cnthctl_el2(regime.cnthctl.rawValue)
    write_cntvoff_el2(0)
    isb()
}
