import CGuest
import SwiftvisorCore

/// Makes every kind of bad hypercall and bad access; each must get an error code or an
/// injected exception, and the guest goes on to the end.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    let console = XenABI.Number.consoleIO.rawValue, sched = XenABI.Number.schedOp.rawValue
    let ramEnd = 0x4000_0000 + Guest.memoryBytes
    c.expect("unknown hypercall -> -ENOSYS", xen_hypercall(999, 0, 0, 0), -38)
    c.expect("unknown console_io command -> -ENOSYS", xen_hypercall(console, 7, 0, 0), -38)
    c.expect("unknown sched_op command -> -ENOSYS", xen_hypercall(sched, 77, 0, 0), -38)
    c.expect("unknown xen_version command -> -ENOSYS", xen_hypercall(XenABI.Number.xenVersion.rawValue, 99, 0, 0), -38)
    c.expect("console_io, VA not mapped at stage 1 -> -EFAULT", xen_hypercall(console, 0, 16, 0x1_0000_0000), -14)
    c.expect("console_io, IPA outside RAM -> -EFAULT", xen_hypercall(console, 0, 16, ramEnd + 0x1000), -14)
    c.expect("console_io, buffer crossing the end of RAM -> -EFAULT", xen_hypercall(console, 0, 64, ramEnd - 16), -14)
    c.expect("console_io, device memory -> -EFAULT", xen_hypercall(console, 0, 4, 0x0900_0000), -14)
    c.expect("console_io, huge length -> -EINVAL", xen_hypercall(console, 0, 1 << 40, 0x4008_0000), -22)
    c.expect("console_io, address wraps -> -EFAULT", xen_hypercall(console, 0, 4096, UInt64.max - 100), -14)
    c.expect("console_io, zero length -> 0", xen_hypercall(console, 0, 0, 0), 0)
    c.expect("shutdown, unmapped argument -> -EFAULT", xen_hypercall(sched, 2, 0x1_0000_0000, 0), -14)
    var badReason: UInt32 = 99
    c.expect("shutdown, unknown reason -> -EINVAL",
             withUnsafeMutablePointer(to: &badReason) { xen_hypercall(sched, 2, UInt64(UInt(bitPattern: $0)), 0) }, -22)
    c.expect("extraversion into unmapped buffer -> -EFAULT", xen_hypercall(XenABI.Number.xenVersion.rawValue, 1, ramEnd, 0), -14)
    // VA 0x8_0000_0000 + x is a read-only stage-1 alias of IPA 0x4000_0000 + x (Kit/start.S).
    let text = Array("read through a read-only alias\n".utf8)
    let readOnlyAlias = text.withUnsafeBufferPointer { UInt64(UInt(bitPattern: $0.baseAddress)) - 0x4000_0000 + 0x8_0000_0000 }
    c.expect("console_io from a read-only mapping -> 0", xen_hypercall(console, 0, UInt64(text.count), readOnlyAlias), 0)
    c.expect("extraversion into a read-only mapping -> -EFAULT", xen_hypercall(XenABI.Number.xenVersion.rawValue, 1, readOnlyAlias, 0), -14)
    c.expect("PSCI CPU_ON, no such CPU -> INVALID_PARAMETERS", smccc_hvc(0xC400_0003, 7, 0x4008_0000, 0), -2)
    c.expect("PSCI CPU_ON, self -> ALREADY_ON", smccc_hvc(0xC400_0003, read_mpidr() & 0xFF_FFFF, 0x4008_0000, 0), -4)
    c.expect("PSCI AFFINITY_INFO, bad level -> INVALID_PARAMETERS", smccc_hvc(0xC400_0004, 0, 3, 0), -2)
    c.expect("SMCCC with upper bits set -> NOT_SUPPORTED", smccc_hvc(0x1_8400_0000, 0, 0, 0), -1)
    c.expect("HVC with an unknown immediate -> NOT_SUPPORTED", hvc_unknown_immediate(), -1)
    c.expect("SMC to an unknown function -> NOT_SUPPORTED", smccc_smc(0x8400_00EE, 0, 0, 0), -1)
    // Accesses the hypervisor cannot emulate become exceptions the guest can handle.
    let pair = Guest.probe { _ = probe_read_pair(0x0900_0000) }
    c.expect("LDP from the UART (ISV=0) -> external abort injected", (pair ?? 0) >> 26 == 0x25)
    var pmcr: UInt64 = 0
    let pmu = Guest.probe { pmcr = read_pmcr() }
    c.expect("PMU register (the vCPU's own PMU) reads PMCR_EL0.N > 0", pmu == nil && pmcr >> 11 & 0x1F != 0)
    c.expect("ID_AA64DFR0_EL1 shows the PMU (PMUVer = PMUv3)", read_id_aa64dfr0() >> 8 & 0xF != 0)
    let sgi0 = Guest.probe { write_icc_sgi0r(1 << 24 | 1) }
    c.expect("Group 0 SGI (not virtualised) -> undefined instruction injected", sgi0 != nil && sgi0! >> 26 == 0)
    let outside = Guest.probe { _ = probe_read64(ramEnd + 0x10_0000) }
    c.expect("load outside RAM -> external abort injected", (outside ?? 0) >> 26 == 0x25 && (outside ?? 0) & 0x3F == 0x10)
    c.expect("still alive: console_io works after all that", Guest.consoleWrite("badcalls survived"), 0)
    c.finish()
}
