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
        // Without autostart it stays finished (not started) until the console's `create`, which
        // prepares its RAM with the lock released (GuestRAMPreparation.swift). With it, it is
        // prepared and loaded here: at the start no other core runs yet and the lock is not
        // taken, and every guest is built before any runs (as Xen's dom0less builds every
        // domU before unpausing them).
        if guest.autostart {
            guard let images = planImages(vm) else { return nil }
            vm.bootImages = images
            vm.ramPreparation.plan(images.copies)
            Hypervisor.prepareRAMAtStart(vm)
            defer { vm.ramPreparation.restart() }   // loaded or failed, this RAM is not fresh
            guard load(vm, images) else { return nil }
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

    /// Where a guest's images go in its RAM (the same at every boot): the kernel's segments
    /// and the initrd, copied in by the preparation with the lock released, and where the
    /// device tree goes (built at each boot: its command line names the boot).
    struct BootImages {
        let entry: UInt64
        let dtbIPA: UInt64
        let initrd: AddressRange<GuestPhysicalAddress>?
        let copies: [RAMPreparation.Copy]
    }

    /// Reads the kernel's headers and places its images in `vm`'s RAM; nil (with a message)
    /// if they do not fit.
    static func planImages(_ vm: VirtualMachine) -> BootImages? {
        let guest = vm.manifest
        func fail(_ why: StaticString) -> BootImages? {
            Console.log(.notStarted(guest: MessageText(guest.name), cause: MessageText(why)))
            return nil
        }
        // SAFETY: the kernel module lies in reserved host RAM named by the manifest.
        let kernelBytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(guest.kernel.base.rawValue)),
                                                 count: Int(guest.kernel.size))
        guard let image = try? KernelImage.parse(kernelBytes) else { return fail("kernel is neither an AArch64 ELF nor an arm64 Image") }
        guard let placement = try? image.placement(in: vm.ram) else { return fail("kernel does not fit in guest RAM") }
        var copies = placement.copies.map {
            RAMPreparation.Copy(source: guest.kernel.base.rawValue + $0.fileOffset,
                                offset: $0.physicalAddress - vm.ram.base.rawValue, length: $0.fileSize)
        }
        // Device tree in the last 2 MiB of RAM, the initrd just below it (arm64 booting.rst).
        let dtbIPA = vm.ram.end.rawValue - PageSize.level2Block
        var initrd: AddressRange<GuestPhysicalAddress>?
        if let r = guest.ramdisk {
            let at = alignDown(dtbIPA - r.size, PageSize.granule)
            guard at >= placement.end.rawValue else { return fail("initrd does not fit in guest RAM") }
            initrd = .init(base: GuestPhysicalAddress(at), size: r.size)
            copies.append(.init(source: r.base.rawValue, offset: at - vm.ram.base.rawValue, length: r.size))
        }
        guard dtbIPA >= placement.end.rawValue else { return fail("no room for the device tree in guest RAM") }
        return BootImages(entry: placement.entry.rawValue, dtbIPA: dtbIPA, initrd: initrd, copies: copies)
    }

    /// The rest of a boot once its RAM is prepared (zeroed, `images` copied in): the device
    /// tree, the vCPUs reset (vCPU 0 at the entry point, the others off), fresh emulated
    /// devices. No vCPU of `vm` may be running. Returns false (with a message) if the device
    /// tree does not fit. Bounded work, under the lock: the device tree is a few KiB.
    static func load(_ vm: VirtualMachine, _ images: BootImages) -> Bool {
        let guest = vm.manifest
        func fail(_ why: StaticString) -> Bool {
            Console.log(.notStarted(guest: MessageText(guest.name), cause: MessageText(why)))
            return false
        }
        let size = vm.hostRAM.size, dtbIPA = images.dtbIPA
        // From the second boot on the guest can tell it was restarted: swiftvisor.boot=N.
        let bootArguments = vm.boots > 1 ? guest.commandLine + " swiftvisor.boot=\(vm.boots)" : guest.commandLine
        let dtb = vm.layout.deviceTree(memoryBytes: size, vcpus: guest.vcpus, bootArguments: bootArguments, initrd: images.initrd,
                                       xen: XenGuest.hypervisorNode(for: guest))
        guard UInt64(dtb.count) <= PageSize.level2Block else { return fail("no room for the device tree in guest RAM") }
        let dtbHost = vm.hostAddress(GuestPhysicalAddress(dtbIPA))!.rawValue
        // SAFETY: the last 2 MiB of this VM's host RAM (identity mapped at EL2, Normal memory),
        // zeroed by the preparation; none of its vCPUs runs.
        dtb.withUnsafeBytes {
            UnsafeMutableRawPointer(bitPattern: UInt(dtbHost))!.copyMemory(from: $0.baseAddress!, byteCount: $0.count)
        }
        // The guest starts with its MMU and caches off: what was written must reach memory
        // (Arm ARM D7.5). The zeroes and the images were cleaned as they were prepared.
        clean_dcache_to_poc(dtbHost, UInt64(dtb.count))

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
            vcpu.reset(entry: images.entry, x0: vcpu.id.rawValue == 0 ? dtbIPA : 0)
            vcpu.listRegisters = TimerLines.listRegisterFile()
            vcpu.vmcr = 0; vcpu.ap0r0 = 0; vcpu.ap1r0 = 0; vcpu.underflowWanted = false; vcpu.osLock = true
        }
        XenGuest.reset(vm)
        return true
    }
}
