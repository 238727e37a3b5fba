import _Volatile
import CGuest
import SwiftvisorCore

/// Runs with `layout = "xen"` and checks from inside the machine Xen 4.17 gives an arm64 domU
/// (xen/include/public/arch-arm.h): the vGIC's distributor at GUEST_GICV3_GICD_BASE (or a
/// GICv2's at GUEST_GICD_BASE with its CPU interface at GUEST_GICC_BASE), the redistributor at
/// GUEST_GICV3_GICR0_BASE, the SBSA UART at GUEST_PL011_BASE (all output goes through it), RAM
/// at GUEST_RAM0_BASE, and nothing at the QEMU virt places: an access there gets an injected
/// abort. Exit code = failed checks.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    guard let header = UnsafeRawPointer(bitPattern: UInt(dtb)),
          let size = DeviceTree.totalSize(header: UnsafeRawBufferPointer(start: header, count: 8)),
          let tree = try? DeviceTree(bytes: UnsafeRawBufferPointer(start: header, count: size)),
          let uart = tree.nodes(compatibleWith: "arm,sbsa-uart").first, let uartReg = uart.reg.first else {
        // Without the SBSA UART there is no console to say so: console_io does.
        Guest.consoleWrite("xen layout: no arm,sbsa-uart node in the device tree")
        Guest.shutdown(.crash, exitCode: 1)
    }
    Guest.uartBase = uartReg.address
    Guest.print("xen layout: printing through the SBSA UART at \(hex(Guest.uartBase))")
    var c = Checks()
    c.expect("the SBSA UART is at GUEST_PL011_BASE", Guest.uartBase == 0x2200_0000)
    c.expect("the SBSA UART raises GUEST_VPL011_SPI (SPI 0)", Int64(uart.property("interrupts")?.u32(1) ?? 99), 0)

    // RAM: the memory node names GUEST_RAM0_BASE, and its first and last words are ours.
    let memory = tree.nodes().first { $0.property("device_type")?.string.map { $0.utf8.elementsEqual("memory".utf8) } ?? false }
    c.expect("RAM starts at GUEST_RAM0_BASE", memory?.reg.first?.address == 0x4000_0000)
    let ramEnd = 0x4000_0000 + Guest.memoryBytes
    c.expect("the last word of RAM reads back what was written", Guest.probe {
        probe_write64(ramEnd - 0x20_0008, 0x5EED); _ = probe_read64(ramEnd - 0x20_0008)
    } == nil && probe_read64(ramEnd - 0x20_0008) == 0x5EED)

    // The GIC: its node, then its ID registers.
    let gicv3 = !tree.nodes(compatibleWith: "arm,gic-v3").isEmpty
    let gic = tree.nodes(compatibleWith: gicv3 ? "arm,gic-v3" : "arm,gic-400").first
    c.expect("the GIC node's first region is GUEST_GICD_BASE", gic?.reg.first?.address == 0x0300_1000)
    let gicd: UInt64 = 0x0300_1000
    if gicv3 {
        Guest.print("xen layout: GICv3")
        c.expect("GICD_PIDR2.ArchRev at 0x03001000 + 0xFFE8 is 3 (GICv3)", Int64(read32(gicd + 0xFFE8) >> 4 & 0xF), 3)
        c.expect("GICD_TYPER.ITLinesNumber says 64 INTIDs", Int64(read32(gicd + 0x4) & 0x1F), 1)
        c.expect("the GIC node's second region is GUEST_GICV3_GICR0_BASE", gic?.reg.dropFirst().first?.address == 0x0302_0000)
        let gicr: UInt64 = 0x0302_0000
        c.expect("GICR_PIDR2.ArchRev at 0x03020000 + 0xFFE8 is 3", Int64(read32(gicr + 0xFFE8) >> 4 & 0xF), 3)
        let typer = read32(gicr + 0x8)
        c.expect("GICR_TYPER of vCPU 0: Processor_Number 0, Last", Int64(typer >> 8 & 0xFFFF), 0)
        c.expect("GICR_TYPER.Last on the only vCPU's frame", typer >> 4 & 1 == 1)
        c.expect("no redistributor past the last vCPU's", Guest.probe { _ = probe_read64(gicr + 0x2_0000) } != nil)
    } else {
        Guest.print("xen layout: GICv2")
        c.expect("GICD_PIDR2.ArchRev at 0x03001000 + 0xFE8 is 2 (GICv2)", Int64(read32(gicd + 0xFE8) >> 4 & 0xF), 2)
        c.expect("GICD_TYPER.ITLinesNumber says 64 INTIDs", Int64(read32(gicd + 0x4) & 0x1F), 1)
        c.expect("the GIC node's second region is GUEST_GICC_BASE", gic?.reg.dropFirst().first?.address == 0x0300_2000)
        // GICC is the hardware's GICV: GICC_IIDR (0xFC) names an implementer.
        c.expect("GICC_IIDR at 0x03002000 + 0xFC names its implementer", read32(0x0300_2000 + 0xFC) & 0xFFF != 0)
    }

    // Nothing at QEMU virt's places: each access is refused with an injected data abort (EC 0x25).
    for (what, ipa) in [("virt's PL011 0x09000000", UInt64(0x0900_0018)), ("virt's GIC distributor 0x08000000", 0x0800_0004),
                        ("virt's redistributor 0x080A0000", 0x080A_0008), ("virt's GICv2 CPU interface 0x08010000", 0x0801_00FC)] {
        let esr = Guest.probe { _ = probe_read64(ipa) }
        let refused = esr.map { $0 >> 26 == 0x25 } ?? false
        Guest.print("xen layout: read \(what): \(esr.map { "refused (ESR \(hex($0)))" } ?? "ANSWERED")")
        c.expect("nothing answers at a virt-layout address", refused)
    }
    Guest.print("xen layout: \(Guest.memoryBytes >> 20) MiB, \(Guest.cpuCount) CPU(s)")
    c.finish()
}

func read32(_ address: UInt64) -> UInt32 {
    VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(address)).load()
}
