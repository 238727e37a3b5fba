/// An emulated Arm PrimeCell PL031 real-time clock (ARM DDI 0224), one per guest of the virt
/// layout at QEMU virt's place (0x0901_0000, SPI 2 = INTID 34): RTCDR counts the host's real
/// seconds plus the guest's own offset, which a write to RTCLR sets (it moves only this guest's
/// clock); the match register RTCMR raises the alarm (RTCRIS) when RTCDR reaches it, an
/// interrupt while RTCIMSC unmasks it. No hardware access here: the caller passes the host's
/// time in seconds and arms a software timer for `matchIn(hostSeconds:)`.
public struct PL031: Equatable {
    /// Register offsets (DDI 0224 3.2) and the identification registers.
    public enum Register: UInt64 {
        case data = 0x000, match = 0x004, load = 0x008, control = 0x00C
        case interruptMask = 0x010, rawInterruptStatus = 0x014, maskedInterruptStatus = 0x018, interruptClear = 0x01C
    }
    /// RTCPeriphID0-3 at 0xFE0-0xFEC and RTCPCellID0-3 at 0xFF0-0xFFC, as QEMU's PL031 answers.
    public static let identification: [UInt32] = [0x31, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1]

    /// Seconds added to the host's: RTCLR's last value minus the host's time then.
    public private(set) var offset: UInt32 = 0
    public private(set) var match: UInt32 = 0
    /// RTCLR reads back the value last written.
    public private(set) var loaded: UInt32 = 0
    /// RTCIMSC bit 0: the alarm interrupt is unmasked.
    public private(set) var interruptMask = false
    /// RTCRIS bit 0: the match occurred (cleared through RTCICR).
    public private(set) var rawInterrupt = false

    public init() {}

    /// After a reset (the guest rebooted): the clock `other` keeps (its offset and RTCLR, as a
    /// battery-backed RTC's), its match, mask and alarm at their reset values.
    public init(clockOf other: PL031) {
        offset = other.offset
        loaded = other.loaded
    }

    /// RTCDR at the host's time `hostSeconds`.
    public func data(hostSeconds: UInt32) -> UInt32 { hostSeconds &+ offset }

    /// RTCINTR: the alarm, unmasked. Level-sensitive, high until cleared or masked.
    public var interruptLine: Bool { rawInterrupt && interruptMask }

    /// Seconds of host time until RTCDR equals RTCMR (at most 2^32 - 1; 0: now). The alarm
    /// fires when RTCDR counts up to the match value, so it may be a wrap of the counter away.
    public func matchIn(hostSeconds: UInt32) -> UInt32 { match &- data(hostSeconds: hostSeconds) }

    /// The software timer reached the match: the alarm is raised.
    public mutating func matched() { rawInterrupt = true }

    /// One guest access (word registers; other widths read as zero and are ignored).
    public mutating func access(_ a: MMIOAccess, hostSeconds: UInt32) -> UInt64 {
        guard a.width == 4 else { return 0 }
        if a.offset >= 0xFE0 && a.offset < 0x1000 {
            return a.isWrite ? 0 : UInt64(Self.identification[Int((a.offset - 0xFE0) / 4)])
        }
        guard let r = Register(rawValue: a.offset) else { return 0 }
        let value = UInt32(truncatingIfNeeded: a.value)
        if a.isWrite {
            switch r {
            case .match: match = value
            case .load: loaded = value; offset = value &- hostSeconds
            case .interruptMask: interruptMask = value & 1 != 0
            case .interruptClear: if value & 1 != 0 { rawInterrupt = false }
            // RTCCR: the RTC cannot be stopped (writing 0 has no effect), as QEMU's; RTCDR,
            // RTCRIS and RTCMIS are read only.
            case .control, .data, .rawInterruptStatus, .maskedInterruptStatus: break
            }
            return 0
        }
        switch r {
        case .data: return UInt64(data(hostSeconds: hostSeconds))
        case .match: return UInt64(match)
        case .load: return UInt64(loaded)
        case .control: return 1   // RTCCR.RTCStart: running
        case .interruptMask: return interruptMask ? 1 : 0
        case .rawInterruptStatus: return rawInterrupt ? 1 : 0
        case .maskedInterruptStatus: return interruptLine ? 1 : 0
        case .interruptClear: return 0
        }
    }
}
