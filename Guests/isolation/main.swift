import CGuest
import SwiftvisorCore

/// Tries to read and write memory it was not given: the IPAs around its RAM, where the other
/// guest's and the hypervisor's memory lie in host physical space, device space, and through
/// hypercall buffers. Reports each attempt; exit code = attempts that were not refused.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let ramEnd = 0x4000_0000 + Guest.memoryBytes
    // The host's RAM on QEMU virt starts at 0x4000_0000 too: IPAs past our RAM are where the
    // hypervisor places other guests and its own tables in host physical memory.
    var targets: [(StaticString, UInt64)] = [
        ("just past own RAM", ramEnd),
        ("1 MiB past own RAM", ramEnd + (1 << 20)),
        ("host RAM at 0x48000000 (host DTB)", 0x4800_0000),
        ("host RAM at 0x50000000 (boot modules)", 0x5000_0000),
        ("host RAM at 0x60000000", 0x6000_0000),
        ("top of 3 GiB", 0xBFFF_F000),
        ("IPA 0 (flash)", 0x0),
        ("GIC ITS (not emulated)", 0x0808_0000),
        ("redistributor of a vCPU it does not have", 0x080C_0000),
        // Its own emulated PL031 there, whose registers are 32-bit: these 64-bit accesses fault.
        ("PL031 RTC, 64-bit", 0x0901_0000),
    ]
    if ramEnd < 0x4800_0000 { targets.append(("host RAM at 0x44000000", 0x4400_0000)) }
    var leaked: UInt32 = 0
    for (what, ipa) in targets {
        var value: UInt64 = 0
        let readFault = Guest.probe { value = probe_read64(ipa) }
        let writeFault = Guest.probe { probe_write64(ipa, 0xBAD_C0FFEE) }
        let r = readFault.map { "refused (ESR \(hex($0)))" } ?? "READ \(hex(value))"
        let w = writeFault.map { "refused (ESR \(hex($0)))" } ?? "WRITTEN"
        if readFault == nil || writeFault == nil { leaked += 1 }
        Guest.print("probe \(what) IPA \(hex(ipa)): read \(r), write \(w)")
    }
    // Hypercall buffers outside own RAM must not let the hypervisor read for us.
    let viaHypercall = xen_hypercall(XenABI.Number.consoleIO.rawValue, 0, 64, 0x6000_0000)
    Guest.print("probe console_io from host RAM 0x60000000: \(viaHypercall == -14 ? "refused (-EFAULT)" : "ANSWERED \(viaHypercall)")")
    if viaHypercall != -14 { leaked += 1 }
    // Own RAM is ours: scan it all for the other guest's secret.
    var found = false
    var a: UInt64 = 0x4000_0000
    let secretPrefix: UInt64 = 0x4345_532D_504F_54  // "TOP-SEC" little-endian, 7 bytes
    while a + 8 <= ramEnd {
        if UnsafePointer<UInt64>(bitPattern: UInt(a))!.pointee & 0xFF_FFFF_FFFF_FFFF == secretPrefix { found = true; break }
        a += 8
    }
    Guest.print(found ? "probe own RAM: FOUND another guest's secret" : "probe own RAM: no trace of another guest's secret")
    if found { leaked += 1 }
    Guest.print("isolation probe: \(targets.count * 2 + 2) attempts, \(leaked) not refused")
    Guest.shutdown(.poweroff, exitCode: leaked)
}
