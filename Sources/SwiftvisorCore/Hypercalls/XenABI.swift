/// Numbers and error values of Xen's public headers (xen/include/public/xen.h, errno.h,
/// version.h, sched.h), so that guests written for Xen on Arm can talk to swiftvisor.
public enum XenABI {
    /// `hvc #0xEA1` marks a Xen hypercall on Arm (xen/include/public/arch-arm.h).
    public static let hvcImmediate: UInt16 = 0xEA1

    /// Bit n set for each `Number` n (all below 64), for the lock-free path's quick test.
    public static let implementedNumbers: UInt64 = 1 << 12 | 1 << 13 | 1 << 17 | 1 << 18 | 1 << 20 | 1 << 21 | 1 << 24 | 1 << 29 | 1 << 32 | 1 << 34

    public enum Number: UInt64, CaseIterable {
        case memoryOp = 12
        case vcpuOp = 24
        case eventChannelOp = 32
        case multicall = 13
        case grantTableOp = 20
        case consoleIO = 18
        case xenVersion = 17
        case vmAssist = 21
        case schedOp = 29
        case hvmOp = 34
    }

    /// Negated errno values returned in x0.
    /// Values from xen/include/public/errno.h (the same as Linux's on Arm).
    public enum Errno: Int64, Error {
        case eperm = 1, enoent = 2, esrch = 3, enxio = 6, e2big = 7, ebadf = 9, eagain = 11, enomem = 12
        case eacces = 13, efault = 14, ebusy = 16, eexist = 17, enodev = 19, einval = 22
        case enospc = 28, edom = 33, erange = 34, enosys = 38, enotempty = 39, eopnotsupp = 95
        public var returnValue: UInt64 { UInt64(bitPattern: -rawValue) }
    }

    /// XENVER_* sub-ops (version.h).
    public enum VersionCommand: UInt64 {
        case version = 0, extraVersion = 1, compileInfo = 2, capabilities = 3, changeset = 4
        case platformParameters = 5, getFeatures = 6, pageSize = 7, guestHandle = 8, commandline = 9, buildID = 10
    }
    public enum ConsoleCommand: UInt64 { case write = 0, read = 1 }
    public enum SchedCommand: UInt64 {
        case yield = 0, block = 1, shutdown = 2, poll = 3, shutdownCode = 5
        /// swiftvisor extension: like `shutdown`, with `struct { uint32 reason; uint32 exit_code; }`.
        case shutdownWithExitCode = 0x5356
    }

    /// `struct sched_shutdown`'s reason (sched.h SHUTDOWN_*).
    public enum ShutdownReason: UInt32 {
        case poweroff = 0, reboot = 1, suspend = 2, crash = 3, watchdog = 4
        public var name: StaticString {
            switch self {
            case .poweroff: return "poweroff"
            case .reboot: return "reboot"
            case .suspend: return "suspend"
            case .crash: return "crash"
            case .watchdog: return "watchdog"
            }
        }
    }

    /// `xen_version(XENVER_version)`: major << 16 | minor. swiftvisor speaks Xen 4.17's interface.
    /// (A literal, not another constant, so the lock-free path reads no lazily initialised global.)
    public static let version: UInt64 = 4 << 16 | 17
    /// Longest CONSOLEIO_write accepted in one call; longer ones get -EINVAL.
    public static let maxConsoleWrite: UInt64 = 16 * 1024
    /// Bytes of a CONSOLEIO_write shown per exit; the rest continues the hypercall (the HVC
    /// runs again with the arguments advanced), as Xen's guest_console_write copies 128 bytes
    /// at a time and creates a continuation when preemption is due: the hypervisor lock is
    /// held for one chunk, not for a whole 16 KiB write.
    public static let consoleWriteChunk: UInt64 = 128
}

/// A Xen hypercall whose number and arguments have been checked.
public enum XenHypercall: Equatable {
    case version
    case pageSize
    /// A XENVER_* sub-op that copies `XenVersion.reply(to:)` into the guest's buffer.
    case versionReply(XenABI.VersionCommand, buffer: UInt64)
    /// XENVER_get_features: `xen_feature_info_t { uint32 submap_idx; uint32 submap; }` at `buffer`.
    case features(buffer: UInt64)
    case consoleWrite(buffer: UInt64, length: UInt64)
    case consoleRead
    case yield
    case block
    /// The guest's `struct sched_shutdown` is at `argument` (a guest virtual address).
    case shutdown(argument: UInt64, withExitCode: Bool)
    /// vm_assist with a type and command Xen on Arm accepts.
    case vmAssist(XenVMAssist.Command)
    /// HVMOP_get_param / HVMOP_set_param on the `struct xen_hvm_param` at `argument`.
    case hvmParam(set: Bool, argument: UInt64)
    /// HVMOP_guest_request_vm_event with no argument: nothing monitors the guest, so nothing happens.
    case hvmGuestRequest
    /// `count` entries of `multicall_entry_t` at `list`.
    case multicall(list: UInt64, count: UInt64)
    /// memory_op: XENMEM_* command (with its start extent above bit 6) and argument.
    case memoryOp(command: UInt64, argument: UInt64)
    /// grant_table_op: GNTTABOP_* command and count (both `unsigned int`), structures at `argument`.
    /// (Two 32-bit halves in one word: a third payload word made every hypercall's decoded
    /// value larger, and the world switch's yield path longer.)
    case grantTableOp(GrantTableABI.Call, argument: UInt64)
    /// SCHEDOP_poll on the `struct sched_poll` at `argument`.
    case poll(argument: UInt64)
    /// SCHEDOP_shutdown_code on the `struct sched_shutdown` at `argument`.
    case shutdownCode(argument: UInt64)
    /// event_channel_op(cmd, arg): EVTCHNOP_* `command` on the structure at `argument`.
    case eventChannel(XenEventChannelOp.Command, argument: UInt64)
    /// vcpu_op(cmd, vcpuid, arg): checked against the VM's vCPUs by `XenVCPUOp.check`.
    case vcpu(command: UInt32, vcpu: UInt32, argument: UInt64)

    /// Decodes x16 (number) and x0-x1 (arguments); the error is what x0 returns.
    @inline(__always)
    public static func decode(number: UInt64, x0: UInt64, x1: UInt64, x2: UInt64) -> Result<XenHypercall, XenABI.Errno> {
        guard let n = XenABI.Number(rawValue: number) else { return .failure(.enosys) }
        switch n {
        case .xenVersion: return decodeVersion(x0: x0, x1: x1)
        case .consoleIO:
            switch XenABI.ConsoleCommand(rawValue: x0) {
            case .write:
                guard x1 <= XenABI.maxConsoleWrite else { return .failure(.einval) }
                return .success(.consoleWrite(buffer: x2, length: x1))
            case .read: return .success(.consoleRead)
            case nil: return .failure(.enosys)
            }
        case .schedOp:
            switch XenABI.SchedCommand(rawValue: x0) {
            case .yield: return .success(.yield)
            case .block: return .success(.block)
            case .shutdown: return .success(.shutdown(argument: x1, withExitCode: false))
            case .shutdownWithExitCode: return .success(.shutdown(argument: x1, withExitCode: true))
            case .poll, .shutdownCode: return decodeGuestInterface(n, x0: x0, x1: x1, x2: x2)
            case nil: return .failure(.enosys)
            }
        case .vmAssist, .hvmOp, .multicall, .vcpuOp, .eventChannelOp: return decodeGuestInterface(n, x0: x0, x1: x1, x2: x2)
        case .memoryOp, .grantTableOp: return decodeMemoryAndGrants(n, x0: x0, x1: x1, x2: x2)
        }
    }

    // Out of line: the exit handler inlines `decode`, and these rarer calls must not grow it
    // (inline, they pushed the data-abort handler out of line: mmio_pl011_fr_read 229 -> 268).
    @inline(never)
    static func decodeVersion(x0: UInt64, x1: UInt64) -> Result<XenHypercall, XenABI.Errno> {
        guard let command = XenABI.VersionCommand(rawValue: x0) else { return .failure(.enosys) }
        switch command {
        case .version: return .success(.version)
        // Xen takes no buffer here: a non-null one is -EINVAL.
        case .pageSize: return x1 == 0 ? .success(.pageSize) : .failure(.einval)
        case .getFeatures: return .success(.features(buffer: x1))
        // Privileged (xsm default policy): a domU gets -EPERM before its buffer is looked at.
        case .buildID: return .failure(.eperm)
        case .extraVersion, .compileInfo, .capabilities, .changeset, .platformParameters, .guestHandle, .commandline:
            return .success(.versionReply(command, buffer: x1))
        }
    }

    /// memory_op and grant_table_op: their arguments are checked where they are carried out.
    @inline(never)
    static func decodeMemoryAndGrants(_ n: XenABI.Number, x0: UInt64, x1: UInt64, x2: UInt64) -> Result<XenHypercall, XenABI.Errno> {
        n == .memoryOp ? .success(.memoryOp(command: x0, argument: x1)) : .success(.grantTableOp(.init(command: UInt32(truncatingIfNeeded: x0), count: UInt32(truncatingIfNeeded: x2)), argument: x1))
    }

    @inline(never)
    static func decodeGuestInterface(_ n: XenABI.Number, x0: UInt64, x1: UInt64, x2: UInt64) -> Result<XenHypercall, XenABI.Errno> {
        switch n {
        case .schedOp:
            return x0 == XenABI.SchedCommand.poll.rawValue ? .success(.poll(argument: x1)) : .success(.shutdownCode(argument: x1))
        case .eventChannelOp:
            // `int cmd`: the low 32 bits.
            guard let command = XenEventChannelOp.Command(rawValue: x0 & 0xFFFF_FFFF) else { return .failure(.enosys) }
            return .success(.eventChannel(command, argument: x1))
        case .vcpuOp:
            return XenVCPUOp.decode(command: x0, vcpu: x1, argument: x2)
        case .vmAssist:
            return XenVMAssist.answer(command: x0, type: x1).map { .vmAssist($0) }
        case .hvmOp:
            switch XenHVMParam.Operation(rawValue: x0) {
            case .setParam: return .success(.hvmParam(set: true, argument: x1))
            case .getParam: return .success(.hvmParam(set: false, argument: x1))
            case .guestRequestVMEvent: return x1 == 0 ? .success(.hvmGuestRequest) : .failure(.einval)
            case nil: return .failure(.enosys)
            }
        case .multicall:
            return .success(.multicall(list: x0, count: x1 & 0xFFFF_FFFF))   // nr_calls is a uint32_t
        default: return .failure(.enosys)
        }
    }
}
