import CGuest
import SwiftvisorCore

/// Every required hypercall and PSCI call answers as docs/hypercalls.md says.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    var c = Checks()
    let xen = XenABI.Number.self
    c.expect("xen_version(XENVER_version)", xen_hypercall(xen.xenVersion.rawValue, 0, 0, 0), Int64(XenABI.version))
    c.expect("xen_version(XENVER_pagesize)", xen_hypercall(xen.xenVersion.rawValue, 7, 0, 0), 4096)
    var extra: (UInt64, UInt64) = (0, 0)
    let r = withUnsafeMutablePointer(to: &extra) { xen_hypercall(xen.xenVersion.rawValue, 1, UInt64(UInt(bitPattern: $0)), 0) }
    c.expect("xen_version(XENVER_extraversion) returns 0", r, 0)
    c.expect("extraversion starts with '-swiftvisor'", extra.0 == 0x6976_7466_6977_732D)  // "-swiftvi" little-endian
    c.expect("console_io(CONSOLEIO_write)", Guest.consoleWrite("written with console_io"), 0)
    c.expect("sched_op(SCHEDOP_yield)", xen_hypercall(xen.schedOp.rawValue, 0, 0, 0), 0)
    c.expect("unknown hypercall number -> -ENOSYS", xen_hypercall(12345, 0, 0, 0), -38)

    let version = Int64(SMCCCCall.FunctionID.psciVersion.rawValue)
    c.expect("PSCI_VERSION = 1.1", smccc_hvc(UInt64(version), 0, 0, 0), 0x1_0001)
    c.expect("PSCI_VERSION via SMC", smccc_smc(UInt64(version), 0, 0, 0), 0x1_0001)
    c.expect("SMCCC_VERSION = 1.1", smccc_hvc(0x8000_0000, 0, 0, 0), 0x1_0001)
    c.expect("SMCCC_ARCH_FEATURES(unknown) -> NOT_SUPPORTED", smccc_hvc(0x8000_0001, 0x8000_8000, 0, 0), -1)
    c.expect("PSCI_FEATURES(CPU_ON) = 0", smccc_hvc(0x8400_000A, 0xC400_0003, 0, 0), 0)
    c.expect("PSCI_FEATURES(unknown) -> NOT_SUPPORTED", smccc_hvc(0x8400_000A, 0x8400_00FF, 0, 0), -1)
    c.expect("AFFINITY_INFO(self) = ON", smccc_hvc(0xC400_0004, read_mpidr() & 0xFF_FFFF, 0, 0), 0)
    c.expect("unknown SMCCC function -> NOT_SUPPORTED", smccc_hvc(0xC200_0042, 0, 0, 0), -1)
    c.finish()
}
