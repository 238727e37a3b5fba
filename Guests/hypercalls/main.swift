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
    vmAssistHVMAndMulticall(&c)
    c.expect("console_io(CONSOLEIO_write)", Guest.consoleWrite("written with console_io"), 0)
    c.expect("sched_op(SCHEDOP_yield)", xen_hypercall(xen.schedOp.rawValue, 0, 0, 0), 0)
    c.expect("unknown hypercall number -> -ENOSYS", xen_hypercall(12345, 0, 0, 0), -38)

    let version = Int64(SMCCCCall.FunctionID.psciVersion.rawValue)
    c.expect("PSCI_VERSION = 1.1", smccc_hvc(UInt64(version), 0, 0, 0), 0x1_0001)
    c.expect("PSCI_VERSION via SMC", smccc_smc(UInt64(version), 0, 0, 0), 0x1_0001)
    c.expect("SMCCC_VERSION = 1.1", smccc_hvc(0x8000_0000, 0, 0, 0), 0x1_0001)
    c.expect("SMCCC_ARCH_FEATURES(unknown) -> NOT_SUPPORTED", smccc_hvc(0x8000_0001, 0x8000_1234, 0, 0), -1)
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
    // Tests/SystemTests/Systems/hypercalls.toml: uuid = "5ca1ab1e-0000-4000-8000-00000000cafe"
    let uuid: [UInt8] = [0x5C, 0xA1, 0xAB, 0x1E, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0xCA, 0xFE]
    c.expect("guest_handle is the config's uuid", (0..<16).allSatisfy { buffer[$0] == uuid[$0] } && buffer[16] == 0xFF)
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

/// vm_assist, hvm_op params and multicall (docs/xen.md).
func vmAssistHVMAndMulticall(_ c: inout Checks) {
    let xen = XenABI.Number.self
    let unmapped = 0x4000_0000 + Guest.memoryBytes
    c.expect("vm_assist(enable, runstate_update_flag) returns 0", xen_hypercall(xen.vmAssist.rawValue, 0, 5, 0), 0)
    c.expect("vm_assist(enable, writable_pagetables) -> -EINVAL", xen_hypercall(xen.vmAssist.rawValue, 0, 2, 0), -22)
    c.expect("vm_assist(unknown command) -> -ENOSYS", xen_hypercall(xen.vmAssist.rawValue, 7, 5, 0), -38)

    // struct xen_hvm_param { domid; pad; index; value }
    var param: (domid: UInt16, pad: UInt16, index: UInt32, value: UInt64) = (0x7FF0, 0, 1, 0xDEAD)
    func hvm(_ op: UInt64) -> Int64 {
        withUnsafeMutablePointer(to: &param) { xen_hypercall(xen.hvmOp.rawValue, op, UInt64(UInt(bitPattern: $0)), 0) }
    }
    c.expect("hvm_op(get_param, STORE_PFN) returns 0", hvm(1), 0)
    c.expect("HVM_PARAM_STORE_PFN is the magic page 0x39001", param.value == 0x39001 && param.index == 1 && param.domid == 0x7FF0)
    param = (0x7FF0, 0, 18, 0xDEAD)
    c.expect("hvm_op(get_param, CONSOLE_EVTCHN) is port 2 (the store's is 1)", hvm(1) == 0 && param.value == 2)
    c.expect("hvm_op(set_param, CALLBACK_IRQ) -> -EPERM", hvm(0), -1)
    param = (0x7FF0, 0, 28, 0)
    c.expect("hvm_op(get_param, MONITOR_RING_PFN) -> -EPERM", hvm(1), -1)
    param = (0x7FF0, 0, 3, 0)
    c.expect("hvm_op(get_param, index 3) -> -EINVAL", hvm(1), -22)
    param = (0, 0, 1, 0)
    c.expect("hvm_op(get_param, another domain) -> -ESRCH", hvm(1), -3)
    c.expect("hvm_op(get_param, unmapped argument) -> -EFAULT", xen_hypercall(xen.hvmOp.rawValue, 1, unmapped, 0), -14)
    c.expect("hvm_op(unknown op) -> -ENOSYS", xen_hypercall(xen.hvmOp.rawValue, 99, 0, 0), -38)

    // multicall_entry_t { op, result, args[6] }: xen_version, nested multicall, an unknown op,
    // then vm_assist; more entries than one exit runs, so the list continues.
    var list = [UInt64](repeating: 0, count: 8 * 40)
    let at = list.withUnsafeMutableBufferPointer { UInt64(UInt(bitPattern: $0.baseAddress)) }
    list[0] = xen.xenVersion.rawValue
    list[8] = xen.multicall.rawValue; list[10] = at; list[11] = 1
    list[16] = 1
    list[24] = xen.vmAssist.rawValue; list[26] = 0; list[27] = 2
    for i in 4..<40 { list[8 * i] = xen.xenVersion.rawValue; list[8 * i + 1] = 0x5A5A; list[8 * i + 2] = 7 }
    let r = list.withUnsafeMutableBufferPointer { xen_hypercall(xen.multicall.rawValue, UInt64(UInt(bitPattern: $0.baseAddress)), 40, 0) }
    c.expect("multicall of 40 entries returns 0", r, 0)
    c.expect("multicall entry xen_version = 4.17", Int64(bitPattern: list[1]), Int64(XenABI.version))
    c.expect("multicall nested multicall -> -EINVAL", Int64(bitPattern: list[9]), -22)
    c.expect("multicall unknown op -> -ENOSYS", Int64(bitPattern: list[17]), -38)
    c.expect("multicall vm_assist(writable_pagetables) -> -EINVAL", Int64(bitPattern: list[25]), -22)
    c.expect("multicall runs every entry (pagesize 4096 in 4..39)", (4..<40).allSatisfy { list[8 * $0 + 1] == 4096 })
    c.expect("multicall, unmapped list -> -EFAULT", xen_hypercall(xen.multicall.rawValue, unmapped, 1, 0), -14)
    c.expect("multicall of 0 entries returns 0", xen_hypercall(xen.multicall.rawValue, unmapped, 0, 0), 0)
}
