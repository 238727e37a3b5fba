/// 64-bit words of guest memory shared with a guest, changed atomically (the guest changes
/// the same words with LDXR/STXR). `offset` is in bytes from the structure's start.
public protocol SharedWords {
    /// Sets bit `bit` of the word at `offset`; returns whether it was set before.
    func testAndSet(_ offset: Int, bit: Int) -> Bool
    /// Clears bit `bit` of the word at `offset`; returns whether it was set before.
    func testAndClear(_ offset: Int, bit: Int) -> Bool
    func test(_ offset: Int, bit: Int) -> Bool
    func store(_ offset: Int, _ value: UInt64)
}

/// The 2-level event-channel ABI's bits (xen/common/event_2l.c) in `struct shared_info` and
/// `struct vcpu_info` as an arm64 guest lays them out (public/xen.h, arch-arm.h: xen_ulong_t is
/// 64 bits, XEN_LEGACY_MAX_VCPUS is 1, arch_vcpu_info and arch_shared_info are empty).
public enum EventChannel2Level {
    /// `struct vcpu_info`: evtchn_upcall_pending (byte 0), pad0, evtchn_pending_sel (8),
    /// vcpu_time_info time (16-47): 48 bytes, 8-byte aligned.
    public static let vcpuInfoSize: UInt64 = 48
    public static let vcpuInfoAlignment: UInt64 = 8
    public static let upcallPendingOffset = 0
    public static let pendingSelectorOffset = 8
    /// `struct shared_info`: vcpu_info[1] (0-47), evtchn_pending[64] (48), evtchn_mask[64] (560),
    /// wc_version (1072), wc_sec, wc_nsec, wc_sec_hi (1084).
    public static let pendingOffset = 48
    public static let maskOffset = 560
    public static let wallclockOffset = 1072

    static func word(_ port: UInt32) -> Int { Int(port / 64) * 8 }
    static func bit(_ port: UInt32) -> Int { Int(port % 64) }

    /// What setting a port pending did.
    public enum Outcome: Equatable {
        /// It was pending already: nothing changed (and pollers are not woken).
        case alreadyPending
        /// Newly pending; no new upcall (masked, selector bit or upcall already set, or no vcpu_info).
        case pending
        /// Newly pending and the vCPU's upcall newly set: raise the event-channel PPI on it.
        case upcall
    }

    /// evtchn_2l_set_pending: sets the port pending; unless it is masked, marks its word in the
    /// vCPU's selector and the vCPU's upcall pending. (`vcpuInfo` nil: a vCPU other than 0
    /// that has not registered its vcpu_info, whose notifications Xen drops.)
    public static func setPending<S: SharedWords, V: SharedWords>(_ port: UInt32, shared: S, vcpuInfo: V?) -> Outcome {
        if shared.testAndSet(pendingOffset + word(port), bit: bit(port)) { return .alreadyPending }
        guard !shared.test(maskOffset + word(port), bit: bit(port)), let vcpuInfo else { return .pending }
        if vcpuInfo.testAndSet(pendingSelectorOffset, bit: Int(port / 64)) { return .pending }
        return markEventsPending(vcpuInfo) ? .upcall : .pending
    }

    /// evtchn_2l_unmask: clears the mask; if the port was masked and is pending, delivers it as
    /// set_pending would. True when the PPI must be raised.
    public static func unmask<S: SharedWords, V: SharedWords>(_ port: UInt32, shared: S, vcpuInfo: V?) -> Bool {
        guard shared.testAndClear(maskOffset + word(port), bit: bit(port)),
              shared.test(pendingOffset + word(port), bit: bit(port)), let vcpuInfo else { return false }
        if vcpuInfo.testAndSet(pendingSelectorOffset, bit: Int(port / 64)) { return false }
        return markEventsPending(vcpuInfo)
    }

    /// evtchn_port_clear_pending, when a port is freed.
    public static func clearPending<S: SharedWords>(_ port: UInt32, shared: S) {
        _ = shared.testAndClear(pendingOffset + word(port), bit: bit(port))
    }

    /// vcpu_mark_events_pending: evtchn_upcall_pending set; true if it was clear.
    public static func markEventsPending<V: SharedWords>(_ vcpuInfo: V) -> Bool {
        !vcpuInfo.testAndSet(upcallPendingOffset, bit: 0)
    }

    /// map_vcpu_info's checks on `offset` into the page (-ENXIO when the structure would
    /// cross the page or is misaligned).
    public static func vcpuInfoOffsetIsValid(_ offset: UInt64) -> Bool {
        offset <= PageSize.granule - vcpuInfoSize && offset % vcpuInfoAlignment == 0
    }

    /// Whether `port` is pending (SCHEDOP_poll, SCHEDOP_block's wake-up check).
    public static func isPending<S: SharedWords>(_ port: UInt32, shared: S) -> Bool {
        shared.test(pendingOffset + word(port), bit: bit(port))
    }
}
