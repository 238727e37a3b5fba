import CArch
import SwiftvisorCore

/// Builds a VM from a boot-manifest entry (RAM, stage-2 tables, vCPUs), and loads it: fresh
/// memory, kernel, initrd, device tree, vCPUs reset. Loading runs again at each reboot.
enum GuestBuilder {
    static func build(_ guest: BootManifest.Guest, index: Int, vmid: VMID, processor: Processor, platform: HostPlatform,
                      allocator: UnsafeMutablePointer<PhysicalRangeAllocator>) -> VirtualMachine? {
        func fail(_ why: StaticString) -> VirtualMachine? {
            Console.log(.notStarted(guest: MessageText(guest.name), cause: MessageText(why)))
            return nil
        }
        guard Int(vmid.rawValue) <= Limits.vmids else { return fail("more guests than 8-bit VMIDs can name") }
        // Passed-through device memory must be a device: never RAM, nor what the hypervisor drives.
        for r in guest.deviceMemory {
            let hypervisorOwned = platform.ram + [platform.uart, platform.gicDistributor, platform.gicRedistributors,
                                                  platform.gicCPUInterface, platform.gicHypervisorInterface,
                                                  platform.gicVirtualCPUInterface].compactMap { $0 }
            if hypervisorOwned.contains(where: { $0.overlaps(r) }) { return fail("iomem overlaps RAM or a device the hypervisor uses") }
            // The Raspberry Pi's PM watchdog resets the whole machine.
            if platform.powerManagementWatchdog?.overlaps(r) ?? false { return fail("iomem overlaps RAM or a device the hypervisor uses") }
        }
        for intid in guest.interrupts where intid < 32 || intid >= 32 + UInt32(VirtualGIC.defaultSPICount) {
            return fail("irqs names an interrupt that is not a passable SPI")
        }
        let size = alignUp(guest.memoryBytes, PageSize.level2Block)
        // A Xen domU's RAM0 holds 3 GiB (the host tool refuses more; a hand-made manifest may not).
        guard size <= GuestLayout(guest.layout, gic: VirtualCPUInterface.version).maximumRAM else {
            return fail("more memory than its layout has room for")
        }
        guard let base = allocator.pointee.allocate(size: size, alignment: PageSize.level2Block) else {
            return fail("not enough free host memory")
        }
        guard var stage2 = TranslationTable(memory: IdentityMappedTables(allocator: allocator), startLevel: 1) else {
            return fail("no memory for stage-2 tables")
        }
        do {
            // Only RAM (and passed-through devices) is mapped: every other access traps.
            try stage2.map(input: GuestLayout.ramBase.rawValue, output: base, size: size, attributes: Stage2Attributes.guestRAM)
            // Passed-through devices appear at their own addresses (IPA = PA), as Device memory.
            let device = Stage2Attributes(memory: .device, access: .readWrite, executable: false)
            for r in guest.deviceMemory {
                try stage2.map(input: r.base.rawValue, output: r.base, size: r.size, attributes: device)
            }
            // GICv2: the hardware's virtual CPU interface (GICV, 8 KiB with GICV_DIR in the
            // second page) is the guest's GICC (IHI0048B 5.4).
            if VirtualCPUInterface.version == .v2, let gicv = platform.gicVirtualCPUInterface {
                let gicc = GuestLayout(guest.layout, gic: .v2).gicCPUInterface
                try stage2.map(input: gicc.base.rawValue, output: gicv.base, size: gicc.size, attributes: device)
            }
        } catch { return fail("stage-2 mapping failed (iomem overlapping guest RAM or each other?)") }
        // The magic pages: the PV console's and xenstore's rings, hypervisor pages the guest
        // finds through HVM_PARAM_CONSOLE_PFN / STORE_PFN (Normal memory, never executable).
        var magicPages: HostPhysicalAddress?
        if guest.enhanced != .disabled {
            guard let pages = allocator.pointee.allocate(size: 2 * PageSize.granule, alignment: PageSize.granule) else {
                return fail("not enough free host memory")
            }
            let ring = Stage2Attributes(memory: .normal, access: .readWrite, executable: false)
            do {
                try stage2.map(input: XenGuestLayout.magicPages.base.rawValue, output: pages, size: 2 * PageSize.granule, attributes: ring)
            } catch { return fail("stage-2 mapping failed (iomem overlapping the Xen magic pages?)") }
            magicPages = pages
        }
        let vm = VirtualMachine(name: guest.name, index: index, vmid: vmid, vcpuCount: guest.vcpus,
                                hostRAM: .init(base: base, size: size), stage2: stage2, manifest: guest)
        vm.xen.magicPages = magicPages
        for n in 0..<guest.vcpus { vm.vcpus.append(VirtualCPU(vm: vm, id: VCPUID(n))) }
        // Without autostart it stays finished (not started) until the console's `create`.
        if guest.autostart {
            guard load(vm) else { return nil }
        }

        // With where its virtual counter starts on the physical one (CNTVOFF_EL2), for `bench --linux`.
        Console.log(.built(guest: MessageText(guest.name), .init(
            mebibytes: size >> 20, hostBase: base.rawValue, vmid: UInt64(vmid.rawValue), vcpus: UInt64(guest.vcpus),
            entry: vm.vcpus[0].frame.pointee.elr_el2, counterOffset: vm.cntvoff, autostart: guest.autostart)))
        return vm
    }

    /// A new boot must not see the last one's translations, cached under the same VMID (Arm ARM
    /// D8.13.5). TLBI VMALLS12E1IS acts on the VMID in VTTBR_EL2: switch to this VM's for it.
    static func invalidateTranslations(_ vm: VirtualMachine) {
        let saved = read_vttbr_el2()
        write_vttbr_el2(vm.vttbr); isb()
        tlbi_vmalls12e1is()
        write_vttbr_el2(saved); isb()
        for i in 0..<vm.lastVCPUOnCore.count { vm.lastVCPUOnCore[i] = nil }
    }

    /// Fresh memory contents and the boot images; vCPU 0 at the entry point, the others off.
    /// No vCPU of `vm` may be running. Returns false (with a message) if the images do not fit.
    /// `ramZeroed`: its RAM was zeroed and cleaned already, piece by piece (a reboot or
    /// `create`: GuestRAMPreparation.swift); at the start it is cleared here.
    static func load(_ vm: VirtualMachine, ramZeroed: Bool = false) -> Bool {
        let guest = vm.manifest
        func fail(_ why: StaticString) -> Bool {
            Console.log(.notStarted(guest: MessageText(guest.name), cause: MessageText(why)))
            return false
        }
        let base = vm.hostRAM.base, size = vm.hostRAM.size
        // Guests never see what was in this memory before (another guest's, or their last boot's).
        // SAFETY: this VM's host RAM, identity mapped at EL2 as Normal memory (2 MiB aligned).
        if !ramZeroed { clearRAM(vm) }

        // SAFETY: the kernel module lies in reserved host RAM named by the manifest.
        let kernelBytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(guest.kernel.base.rawValue)),
                                                 count: Int(guest.kernel.size))
        guard let image = try? KernelImage.parse(kernelBytes) else { return fail("kernel is neither an AArch64 ELF nor an arm64 Image") }
        guard let placement = try? image.placement(in: vm.ram) else { return fail("kernel does not fit in guest RAM") }
        for segment in placement.copies {
            let destination = vm.hostAddress(GuestPhysicalAddress(segment.physicalAddress))!
            UnsafeMutableRawPointer(bitPattern: UInt(destination.rawValue))!
                .copyMemory(from: kernelBytes.baseAddress! + Int(segment.fileOffset), byteCount: Int(segment.fileSize))
        }

        // Device tree in the last 2 MiB of RAM, the initrd just below it (arm64 booting.rst).
        let dtbIPA = vm.ram.end.rawValue - PageSize.level2Block
        var initrd: AddressRange<GuestPhysicalAddress>?
        if let r = guest.ramdisk {
            let at = alignDown(dtbIPA - r.size, PageSize.granule)
            guard at >= placement.end.rawValue else { return fail("initrd does not fit in guest RAM") }
            initrd = .init(base: GuestPhysicalAddress(at), size: r.size)
            UnsafeMutableRawPointer(bitPattern: UInt(vm.hostAddress(GuestPhysicalAddress(at))!.rawValue))!
                .copyMemory(from: UnsafeRawPointer(bitPattern: UInt(r.base.rawValue))!, byteCount: Int(r.size))
        }
        // From the second boot on the guest can tell it was restarted: swiftvisor.boot=N.
        let bootArguments = vm.boots > 1 ? guest.commandLine + " swiftvisor.boot=\(vm.boots)" : guest.commandLine
        let dtb = vm.layout.deviceTree(memoryBytes: size, vcpus: guest.vcpus, bootArguments: bootArguments, initrd: initrd,
                                       xen: XenGuest.hypervisorNode(for: guest))
        guard dtbIPA >= placement.end.rawValue, UInt64(dtb.count) <= PageSize.level2Block else {
            return fail("no room for the device tree in guest RAM")
        }
        dtb.withUnsafeBytes {
            UnsafeMutableRawPointer(bitPattern: UInt(vm.hostAddress(GuestPhysicalAddress(dtbIPA))!.rawValue))!
                .copyMemory(from: $0.baseAddress!, byteCount: $0.count)
        }
        // The guest starts with its MMU and caches off: make everything written reach memory.
        // (The zeroes of clearRAM are cleaned there; this covers the images and device tree.)
        clean_dcache_to_poc(base.rawValue, min(size, placement.end.offset(from: vm.ram.base)))
        if let initrd { clean_dcache_to_poc(vm.hostAddress(initrd.base)!.rawValue, initrd.size) }
        clean_dcache_to_poc(vm.hostAddress(GuestPhysicalAddress(dtbIPA))!.rawValue, PageSize.level2Block)

        vm.gic = VirtualGIC(vcpuCount: guest.vcpus, version: VirtualCPUInterface.version)
        for intid in guest.interrupts { vm.gic.markPassthrough(intid) }
        vm.uart = PL011()
        RealTimeClock.reset(vm)
        vm.uartLine = false
        vm.injections = 0
        vm.panicWatch = KernelPanicWatch()
        vm.shutdownDeadline = nil
        vm.startedAt = read_cntpct_el0()
        vm.cpuTicks = 0
        invalidateTranslations(vm)
        for vcpu in vm.vcpus {
            vcpu.reset(entry: placement.entry.rawValue, x0: vcpu.id.rawValue == 0 ? dtbIPA : 0)
            vcpu.listRegisters = TimerLines.listRegisterFile()
            vcpu.vmcr = 0; vcpu.ap0r0 = 0; vcpu.ap1r0 = 0; vcpu.underflowWanted = false; vcpu.osLock = true
        }
        XenGuest.reset(vm)
        return true
    }

    /// RAM from which a progress line is printed at each quarter: zeroing and cleaning 1 GiB
    /// takes a few seconds under QEMU's TCG, 16 GiB most of a minute.
    static let progressThreshold: UInt64 = 1 << 30

    /// Zeroes the VM's RAM and cleans it to the Point of Coherency, a piece at a time, with
    /// progress lines for a large VM ("swiftvisor: guest 'x': preparing 16384 MiB of RAM... 50%").
    static func clearRAM(_ vm: VirtualMachine) {
        let base = vm.hostRAM.base.rawValue, size = vm.hostRAM.size
        let pieces: UInt64 = size >= progressThreshold ? 4 : 1
        let piece = alignUp(size / pieces, PageSize.level2Block)
        var done: UInt64 = 0
        while done < size {
            let n = min(piece, size - done)
            if pieces > 1 {
                Console.logGuest(vm.name, "': preparing "); Console.decimal(size >> 20); Console.write(" MiB of RAM... ")
                Console.decimal(done * 100 / size); Console.write("%\n")
            }
            zero_and_clean_to_poc(base + done, n)
            done += n
        }
    }
}
