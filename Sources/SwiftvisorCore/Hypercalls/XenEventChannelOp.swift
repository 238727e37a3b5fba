/// `event_channel_op(int cmd, void *arg)` (public/event_channel.h): the commands and the
/// layout of each argument structure, as Xen copies them in and out.
public enum XenEventChannelOp {
    /// EVTCHNOP_*.
    public enum Command: UInt64 {
        case bindInterdomain = 0, bindVIRQ = 1, bindPIRQ = 2, close = 3, send = 4, status = 5, allocUnbound = 6
        case bindIPI = 7, bindVCPU = 8, unmask = 9, reset = 10, initControl = 11, expandArray = 12, setPriority = 13
        case resetContinue = 14

        /// Bytes of the argument structure Xen copies from the guest first (-EFAULT if it cannot).
        public var argumentSize: UInt64 {
            switch self {
            case .bindInterdomain, .bindVIRQ: return 12   // {remote_dom, pad, remote_port, local_port} / {virq, vcpu, port}
            case .bindPIRQ: return 12                     // {pirq, flags, port}
            case .close, .send, .unmask: return 4          // {port}
            case .status: return 24                        // {dom, pad, port, status, vcpu, union u (8)}
            case .allocUnbound, .bindIPI, .bindVCPU, .setPriority: return 8
            case .reset, .resetContinue: return 2          // {dom}
            case .initControl: return 24                   // {control_gfn, offset, vcpu, link_bits, pad[7]}
            case .expandArray: return 8                    // {array_gfn}
            }
        }
    }

    /// Little-endian fields of an argument structure read from the guest.
    public struct Argument {
        public var bytes: [UInt8]
        public init(bytes: [UInt8]) { self.bytes = bytes }
        public func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        public func u32(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[at + i]) << (8 * UInt32(i)) }
            return v
        }
        public mutating func set16(_ at: Int, _ v: UInt16) { for i in 0..<2 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt16(i))) } }
        public mutating func set32(_ at: Int, _ v: UInt32) { for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
    }

    /// Writes `EventChannels.Status` into a `struct evtchn_status` as Xen fills it: status and
    /// vcpu, then the union member of that status (unbound.dom; interdomain.dom and .port; virq).
    public static func fill(_ a: inout Argument, with s: EventChannels.Status) {
        a.set32(8, s.status)
        a.set32(12, s.vcpu)
        switch s.status {
        case 1: a.set16(16, UInt16(truncatingIfNeeded: s.first))
        case 2: a.set16(16, UInt16(truncatingIfNeeded: s.first)); a.set32(20, s.second)
        case 4: a.set32(16, s.first)
        default: break
        }
    }
}

/// `memory_op(cmd, arg)` (public/memory.h): the sub-ops of this file; the others are -ENOSYS
/// here (`decode` is where they join).
public enum XenMemoryOp {
    /// XENMEM_add_to_physmap.
    public static let addToPhysmap: UInt64 = 7
    /// MEMOP_EXTENT_SHIFT: the command's bits above 6 are a continuation's start extent.
    public static let extentShift: UInt64 = 6
    /// XENMAPSPACE_*.
    public enum Space: UInt32 { case sharedInfo = 0, grantTable = 1, gmfn = 2, gmfnRange = 3, gmfnForeign = 4, devMMIO = 5 }

    /// `struct xen_add_to_physmap { domid_t domid; uint16_t size; unsigned int space;
    /// xen_ulong_t idx; xen_pfn_t gpfn; }`: 24 bytes on Arm.
    public static let addToPhysmapSize: UInt64 = 24
    public struct AddToPhysmap: Equatable {
        public var domid: UInt16
        public var space: UInt32
        public var index: UInt64
        public var gpfn: UInt64
        public init(domid: UInt16, space: UInt32, index: UInt64, gpfn: UInt64) {
            self.domid = domid; self.space = space; self.index = index; self.gpfn = gpfn
        }
        public init(bytes b: [UInt8]) {
            func le(_ at: Int, _ n: Int) -> UInt64 { var v: UInt64 = 0; for i in 0..<n { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }; return v }
            self.init(domid: UInt16(truncatingIfNeeded: le(0, 2)), space: UInt32(truncatingIfNeeded: le(4, 4)), index: le(8, 8), gpfn: le(16, 8))
        }
    }

    public static func decode(command: UInt64, argument: UInt64) -> Result<XenHypercall, XenABI.Errno> {
        let cmd = command & 0xFFFF_FFFF   // `unsigned long cmd`, but op and extent fit in 32 bits on Xen's side
        guard cmd & ((1 << extentShift) - 1) == addToPhysmap else { return .failure(.enosys) }
        // The start extent must fit xatp.size (uint16_t): -EDOM for "malicious or buggy input".
        guard command >> extentShift <= 0xFFFF else { return .failure(.edom) }
        return .success(.addToPhysmap(argument: argument))
    }

    /// XENMEM_add_to_physmap's checks before the space's own (common/memory.c): a foreign
    /// mapping only through the batch call (-ENOSYS), the domain (DOMID_SELF or the caller
    /// itself: another live one is -EPERM, none -ESRCH), dev_mmio for the hardware domain only
    /// (-EACCES). `isLive` says whether a domid names a live domain.
    public static func check(_ r: AddToPhysmap, caller: XenDomainID, isLive: (XenDomainID) -> Bool) -> XenABI.Errno? {
        if r.space == Space.gmfnForeign.rawValue { return .enosys }
        guard let d = XenDomainID.resolve(r.domid, caller: caller), d == caller || isLive(d) else { return .esrch }
        if r.space == Space.devMMIO.rawValue { return .eacces }
        return d == caller ? nil : .eperm
    }

    /// XENMAPSPACE_shared_info at `gpfn`: only index 0; the page must be guest RAM (swiftvisor
    /// makes one of the guest's own pages the shared_info, as Linux offers a page of its RAM);
    /// Xen 4.17 refuses a second mapping while one exists (-EBUSY).
    public static func sharedInfoPlacement(_ r: AddToPhysmap, ram: AddressRange<GuestPhysicalAddress>,
                                           mappedAt: UInt64?) -> Result<GuestPhysicalAddress, XenABI.Errno> {
        guard r.index == 0 else { return .failure(.einval) }
        guard r.gpfn < 1 << 52, ram.contains(GuestPhysicalAddress(r.gpfn << 12)) else { return .failure(.einval) }
        guard mappedAt == nil else { return .failure(.ebusy) }
        return .success(GuestPhysicalAddress(r.gpfn << 12))
    }
}

/// `vcpu_op(int cmd, unsigned int vcpuid, void *arg)` as Xen 4.17 on Arm answers it
/// (xen/arch/arm/domain.c do_vcpu_op): a vCPU the domain lacks is -ENOENT; then only
/// register_vcpu_info and register_runstate_memory_area exist, every other command -EINVAL.
public enum XenVCPUOp {
    public enum Command: UInt32 { case registerRunstateMemoryArea = 5, registerVCPUInfo = 10 }

    public static func decode(command: UInt64, vcpu: UInt64, argument: UInt64) -> Result<XenHypercall, XenABI.Errno> {
        .success(.vcpu(command: UInt32(truncatingIfNeeded: command), vcpu: UInt32(truncatingIfNeeded: vcpu), argument: argument))
    }

    public static func check(command: UInt32, vcpu: UInt32, vcpuCount: Int) -> Result<Command, XenABI.Errno> {
        guard vcpu < UInt32(vcpuCount) else { return .failure(.enoent) }
        guard let c = Command(rawValue: command) else { return .failure(.einval) }
        return .success(c)
    }

    /// `struct vcpu_register_vcpu_info { uint64_t mfn; uint32_t offset; uint32_t rsvd; }`.
    public static let registerVCPUInfoSize: UInt64 = 16
    /// `struct vcpu_register_runstate_memory_area { union { guest handle; uint64_t p; } addr; }`.
    public static let registerRunstateSize: UInt64 = 8

    /// map_vcpu_info's checks: the 48-byte vcpu_info inside the page and aligned (-ENXIO),
    /// registered once (-EINVAL), by the vCPU itself or for one that is down (-EINVAL), in RAM
    /// (-EINVAL). Returns the guest-physical address of the vcpu_info.
    public static func vcpuInfoPlacement(gfn: UInt64, offset: UInt32, alreadyRegistered: Bool, selfOrDown: Bool,
                                         ram: AddressRange<GuestPhysicalAddress>) -> Result<GuestPhysicalAddress, XenABI.Errno> {
        guard EventChannel2Level.vcpuInfoOffsetIsValid(UInt64(offset)) else { return .failure(.enxio) }
        guard !alreadyRegistered, selfOrDown else { return .failure(.einval) }
        guard gfn < 1 << 52, ram.contains(GuestPhysicalAddress(gfn << 12)) else { return .failure(.einval) }
        return .success(GuestPhysicalAddress(gfn << 12 + UInt64(offset)))
    }
}

/// `struct vcpu_runstate_info` (public/vcpu.h): state (int), state_entry_time, time[4]; 48 bytes.
/// Times are nanoseconds of Xen's system time.
public struct XenRunstate: Equatable {
    public enum State: Int { case running = 0, runnable = 1, blocked = 2, offline = 3 }
    /// XEN_RUNSTATE_UPDATE: set in state_entry_time while the area is being written.
    public static let updateFlag: UInt64 = 1 << 63
    public static let size = 48

    public var state: State = .offline
    public var entryTime: UInt64 = 0
    public var time: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    public init() {}

    /// Enters `state` at `now`, charging the time since the last change to the old state.
    public mutating func enter(_ new: State, at now: UInt64) {
        let spent = now >= entryTime ? now - entryTime : 0
        switch state {
        case .running: time.0 &+= spent
        case .runnable: time.1 &+= spent
        case .blocked: time.2 &+= spent
        case .offline: time.3 &+= spent
        }
        state = new
        entryTime = now
    }

    /// The 48 bytes a guest reads, with XEN_RUNSTATE_UPDATE in state_entry_time if `updating`.
    public func bytes(updating: Bool = false) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        func put(_ at: Int, _ v: UInt64) { for i in 0..<8 { out[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(0, UInt64(state.rawValue))   // int state, then 4 bytes of padding
        put(8, entryTime | (updating ? Self.updateFlag : 0))
        put(16, time.0); put(24, time.1); put(32, time.2); put(40, time.3)
        return out
    }

    public static func == (a: XenRunstate, b: XenRunstate) -> Bool {
        a.state == b.state && a.entryTime == b.entryTime && a.time.0 == b.time.0 && a.time.1 == b.time.1
            && a.time.2 == b.time.2 && a.time.3 == b.time.3
    }
}
