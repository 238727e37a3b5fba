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
    xenVersionSubOps(&c)
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

/// Every other xen_version sub-op a domU may use, with good and bad arguments (docs/xen.md).
func xenVersionSubOps(_ c: inout Checks) {
    let number = XenABI.Number.xenVersion.rawValue
    let unmapped = 0x4000_0000 + Guest.memoryBytes
    var buffer = [UInt8](repeating: 0xFF, count: 1024)
    func call(_ command: UInt64) -> Int64 {
        buffer = [UInt8](repeating: 0xFF, count: 1024)
        return buffer.withUnsafeMutableBufferPointer { xen_hypercall(number, command, UInt64(UInt(bitPattern: $0.baseAddress)), 0) }
    }
    /// The buffer holds `text` followed by a NUL.
    func holds(_ text: StaticString) -> Bool {
        var same = true, i = 0
        text.withUTF8Buffer { for b in $0 { if buffer[i] != b { same = false }; i += 1 } }
        return same && buffer[i] == 0
    }
    c.expect("xen_version(XENVER_compile_info) returns 0", call(2), 0)
    c.expect("compile_info.compiler is 'Embedded Swift'", holds("Embedded Swift"))
    c.expect("xen_version(XENVER_capabilities) returns 0", call(3), 0)
    c.expect("capabilities are 'xen-3.0-aarch64 '", holds("xen-3.0-aarch64 ") && buffer[1023] == 0)
    c.expect("xen_version(XENVER_changeset) returns 0", call(4), 0)
    c.expect("changeset is 'unavailable'", holds("unavailable") && buffer[63] == 0 && buffer[64] == 0xFF)
    c.expect("xen_version(XENVER_platform_parameters) returns 0", call(5), 0)
    c.expect("platform_parameters.virt_start = 0x200000",
             buffer[0] == 0 && buffer[1] == 0 && buffer[2] == 0x20 && buffer[3...7].allSatisfy { $0 == 0 })
    c.expect("xen_version(XENVER_guest_handle) returns 0", call(8), 0)
    c.expect("guest_handle is 16 zero bytes", buffer[0..<16].allSatisfy { $0 == 0 } && buffer[16] == 0xFF)
    c.expect("xen_version(XENVER_commandline) returns 0", call(9), 0)
    c.expect("commandline is '<denied>' to a domU", holds("<denied>") && buffer[9] == 0xFF)
    var features: (index: UInt32, submap: UInt32) = (0, 0)
    c.expect("xen_version(XENVER_get_features, 0) returns 0",
             withUnsafeMutablePointer(to: &features) { xen_hypercall(number, 6, UInt64(UInt(bitPattern: $0)), 0) }, 0)
    c.expect("features submap 0 = 0x16005", Int64(features.submap), 0x1_6005)
    features = (1, 0)
    c.expect("get_features(submap 1) -> -EINVAL",
             withUnsafeMutablePointer(to: &features) { xen_hypercall(number, 6, UInt64(UInt(bitPattern: $0)), 0) }, -22)
    c.expect("get_features, unmapped buffer -> -EFAULT", xen_hypercall(number, 6, unmapped, 0), -14)
    c.expect("capabilities into unmapped buffer -> -EFAULT", xen_hypercall(number, 3, unmapped, 0), -14)
    c.expect("pagesize with a buffer -> -EINVAL", xen_hypercall(number, 7, 0x4000_0000, 0), -22)
    c.expect("build_id -> -EPERM", xen_hypercall(number, 10, 0, 0), -1)
    c.expect("unknown xen_version sub-op 11 -> -ENOSYS", xen_hypercall(number, 11, 0, 0), -38)
}
