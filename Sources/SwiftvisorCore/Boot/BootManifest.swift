/// The table the host tool places in RAM next to the guest images, telling the hypervisor
/// which guests to build. Its address reaches the hypervisor as `swiftvisor.manifest=` in the
/// DTB's /chosen/bootargs, as a boot loader would pass it on a real board.
public struct BootManifest: Equatable {
    public struct Guest: Equatable {
        public var name: String
        public var kernel: AddressRange<HostPhysicalAddress>
        public var ramdisk: AddressRange<HostPhysicalAddress>?
        public var memoryBytes: UInt64
        public var vcpus: Int
        public var commandLine: String
        /// Physical cores its vCPUs may run on (bit n: core n); 0 means any.
        public var affinity: UInt64
        /// Device memory passed through, mapped at the same address in IPA space (xl.cfg `iomem`).
        public var deviceMemory: [AddressRange<HostPhysicalAddress>]
        /// Physical SPIs passed through, delivered as the same INTID (xl.cfg `irqs`).
        public var interrupts: [UInt32]
        /// Started at boot; otherwise only by the hypervisor console's `create NAME`.
        public var autostart: Bool
        /// The domain handle (xl.cfg `uuid`); 16 zero bytes if none was given.
        public var uuid: [UInt8]
        /// The machine it is given (the guest key `layout`).
        public var layout: GuestLayout.Kind = .virt
        /// Which Xen interfaces it is told about (dom0less `xen,enhanced`): flags bits 2:1.
        public var enhanced: XenEnhanced = .enabled
        /// xl.cfg `weight` (1...65535) and `cap` (percent of one core, 0: none).
        public var weight: UInt32 = CreditScheduler.defaultWeight
        public var cap: UInt32 = 0

        public init(name: String, kernel: AddressRange<HostPhysicalAddress>, ramdisk: AddressRange<HostPhysicalAddress>? = nil,
                    memoryBytes: UInt64, vcpus: Int, commandLine: String, affinity: UInt64 = 0,
                    deviceMemory: [AddressRange<HostPhysicalAddress>] = [], interrupts: [UInt32] = [],
                    autostart: Bool = true, uuid: [UInt8] = [UInt8](repeating: 0, count: 16)) {
            self.name = name; self.kernel = kernel; self.ramdisk = ramdisk
            self.memoryBytes = memoryBytes; self.vcpus = vcpus; self.commandLine = commandLine; self.affinity = affinity
            self.deviceMemory = deviceMemory; self.interrupts = interrupts; self.autostart = autostart
            self.uuid = uuid
        }
    }

    public var guests: [Guest]
    /// PV devices between guests (xl.cfg `vif`/`disk` with `backend=`), in the order written.
    public var devices: [XenDevice] = []
    public init(guests: [Guest], devices: [XenDevice] = []) { self.guests = guests; self.devices = devices }

    /// Header: magic 0-7, guest count 8-11, device count 12-15; then the guest entries, then
    /// the device entries.
    static let magic: UInt64 = 0x3446_494E_414D_5653  // "SVMANIF4"
    static let headerSize = 16
    static let entrySize = 1024
    /// Device entry layout: kind 0, read-only 1, frontend index 4-7, backend index 8-11,
    /// devid 12-15, mac 16-21, bridge 24-39, vdev 40-55, target 56-255 (strings NUL-terminated).
    public static let deviceEntrySize = 256
    static let deviceBridgeOffset = 24
    static let deviceVdevOffset = 40
    public static let deviceTargetOffset = 56
    public static let maxNameLength = Limits.nameLength
    public static let maxDeviceMemoryRanges = Limits.deviceMemoryRanges
    public static let maxInterrupts = Limits.interrupts
    /// Entry layout: name 0-63, images and sizes 64-111, iomem 112-175, irqs 176-207,
    /// flags 208-215 (bit 0: do not start at boot; bit 3: the xen layout; bits 31:16: weight, 0
    /// meaning the default; bits 47:32: cap), uuid 216-231, cmdline 232-.
    static let flagsOffset = 208
    static let notAutostartFlag: UInt64 = 1 << 0
    /// Flags bits 2:1: `XenEnhanced`.
    static let enhancedShift: UInt64 = 1
    static let xenLayoutFlag: UInt64 = 1 << 3
    static let weightShift: UInt64 = 16
    static let capShift: UInt64 = 32
    static let uuidOffset = 216
    static let commandLineOffset = 232
    public static let maxCommandLineLength = Limits.commandLineLength

    public enum ParseError: Error, Equatable {
        case badMagic, truncated, badEntry(index: Int)
        /// More entries than `Limits.guests`.
        case tooManyGuests(count: Int)
        /// Device entry `index` is not usable (unknown kind, a guest index out of range, a
        /// string without its NUL).
        case badDevice(index: Int)
        /// More device entries than `Limits.devices`.
        case tooManyDevices(count: Int)
    }

    public var encoded: [UInt8] {
        var b: [UInt8] = []
        b.appendLE(Self.magic, size: 8)
        b.appendLE(UInt64(guests.count), size: 4)
        b.appendLE(UInt64(devices.count), size: 4)
        for g in guests {
            var e: [UInt8] = []
            e.append(contentsOf: g.name.utf8.prefix(Self.maxNameLength))
            while e.count < 64 { e.append(0) }
            e.appendLE(g.kernel.base.rawValue, size: 8)
            e.appendLE(g.kernel.size, size: 8)
            e.appendLE(g.ramdisk?.base.rawValue ?? 0, size: 8)
            e.appendLE(g.ramdisk?.size ?? 0, size: 8)
            e.appendLE(g.memoryBytes, size: 8)
            e.appendLE(UInt64(g.vcpus), size: 4)
            e.appendLE(g.affinity & 0xFFFF_FFFF, size: 4)
            for i in 0..<Self.maxDeviceMemoryRanges {
                let r = i < g.deviceMemory.count ? g.deviceMemory[i] : AddressRange(base: HostPhysicalAddress(0), size: 0)
                e.appendLE(r.base.rawValue, size: 8); e.appendLE(r.size, size: 8)
            }
            for i in 0..<Self.maxInterrupts { e.appendLE(UInt64(i < g.interrupts.count ? g.interrupts[i] : 0), size: 4) }
            e.appendLE((g.autostart ? 0 : Self.notAutostartFlag) | UInt64(g.enhanced.rawValue) << Self.enhancedShift
                       | (g.layout == .xen ? Self.xenLayoutFlag : 0)
                       | UInt64(g.weight & 0xFFFF) << Self.weightShift | UInt64(g.cap & 0xFFFF) << Self.capShift, size: 8)
            for i in 0..<16 { e.append(i < g.uuid.count ? g.uuid[i] : 0) }
            e.append(contentsOf: g.commandLine.utf8.prefix(Self.maxCommandLineLength))
            while e.count < Self.entrySize { e.append(0) }
            b.append(contentsOf: e)
        }
        for d in devices { b.append(contentsOf: Self.encode(d)) }
        return b
    }

    static func encode(_ d: XenDevice) -> [UInt8] {
        var e: [UInt8] = [d.kind.rawValue, d.readOnly ? 1 : 0, 0, 0]
        e.appendLE(UInt64(d.frontend), size: 4)
        e.appendLE(UInt64(d.backend), size: 4)
        e.appendLE(UInt64(d.devid), size: 4)
        for i in 0..<8 { e.append(i < 6 && i < d.mac.count ? d.mac[i] : 0) }
        func field(_ s: String, _ end: Int) {
            e.append(contentsOf: s.utf8.prefix(end - e.count - 1))
            while e.count < end { e.append(0) }
        }
        field(d.bridge, deviceVdevOffset)
        field(d.vdev, deviceTargetOffset)
        field(d.target, deviceEntrySize)
        return e
    }

    /// Total size of a manifest from its header, or nil if the magic is wrong.
    public static func size(header: UnsafeRawBufferPointer) -> Int? {
        guard header.count >= headerSize, header.le64(0) == magic else { return nil }
        return headerSize + Int(header.le32(8)) * entrySize + Int(header.le32(12)) * deviceEntrySize
    }

    public init(bytes b: UnsafeRawBufferPointer) throws(ParseError) {
        guard b.count >= Self.headerSize else { throw .truncated }
        guard b.le64(0) == Self.magic else { throw .badMagic }
        let count = Int(b.le32(8))
        guard count <= Limits.guests else { throw .tooManyGuests(count: count) }
        let deviceCount = Int(b.le32(12))
        guard deviceCount <= Limits.devices else { throw .tooManyDevices(count: deviceCount) }
        let devicesOffset = Self.headerSize + count * Self.entrySize
        guard b.count >= devicesOffset + deviceCount * Self.deviceEntrySize else { throw .truncated }
        guests = []
        for i in 0..<count {
            let e = UnsafeRawBufferPointer(rebasing: b[(Self.headerSize + i * Self.entrySize)...])
            let ramdiskSize = e.le64(88)
            let vcpus = Int(e.le32(104))
            guard vcpus >= 1 else { throw .badEntry(index: i) }
            var deviceMemory: [AddressRange<HostPhysicalAddress>] = []
            for r in 0..<Self.maxDeviceMemoryRanges where e.le64(120 + r * 16) != 0 {
                deviceMemory.append(.init(base: HostPhysicalAddress(e.le64(112 + r * 16)), size: e.le64(120 + r * 16)))
            }
            var interrupts: [UInt32] = []
            for r in 0..<Self.maxInterrupts where e.le32(176 + r * 4) != 0 { interrupts.append(e.le32(176 + r * 4)) }
            let flags = e.le64(Self.flagsOffset)
            var guest = Guest(
                name: Self.string(e, 0, 64),
                kernel: .init(base: HostPhysicalAddress(e.le64(64)), size: e.le64(72)),
                ramdisk: ramdiskSize == 0 ? nil : .init(base: HostPhysicalAddress(e.le64(80)), size: ramdiskSize),
                memoryBytes: e.le64(96), vcpus: vcpus,
                commandLine: Self.string(e, Self.commandLineOffset, Self.entrySize - Self.commandLineOffset),
                affinity: UInt64(e.le32(108)), deviceMemory: deviceMemory, interrupts: interrupts,
                autostart: flags & Self.notAutostartFlag == 0,
                uuid: (0..<16).map { e[Self.uuidOffset + $0] })
            guest.layout = flags & Self.xenLayoutFlag != 0 ? .xen : .virt
            guard let enhanced = XenEnhanced(rawValue: UInt8(truncatingIfNeeded: flags >> Self.enhancedShift & 3)) else {
                throw .badEntry(index: i)
            }
            guest.enhanced = enhanced
            let weight = UInt32(truncatingIfNeeded: flags >> Self.weightShift & 0xFFFF)
            guest.weight = weight == 0 ? CreditScheduler.defaultWeight : weight
            guest.cap = UInt32(truncatingIfNeeded: flags >> Self.capShift & 0xFFFF)
            guests.append(guest)
        }
        for i in 0..<deviceCount {
            let e = UnsafeRawBufferPointer(rebasing: b[(devicesOffset + i * Self.deviceEntrySize)...])
            guard let d = Self.device(e, guests: count) else { throw .badDevice(index: i) }
            devices.append(d)
        }
    }

    static func device(_ e: UnsafeRawBufferPointer, guests: Int) -> XenDevice? {
        guard let kind = XenDevice.Kind(rawValue: e[0]), e[1] <= 1 else { return nil }
        let frontend = Int(e.le32(4)), backend = Int(e.le32(8))
        guard frontend < guests, backend < guests, frontend != backend else { return nil }
        // Each string ends with a NUL inside its field.
        for end in [deviceVdevOffset, deviceTargetOffset, deviceEntrySize] where e[end - 1] != 0 { return nil }
        var d = XenDevice(kind: kind, frontend: frontend, backend: backend, devid: e.le32(12))
        d.readOnly = e[1] == 1
        if kind == .vif { d.mac = (0..<6).map { e[16 + $0] } }
        d.bridge = string(e, deviceBridgeOffset, deviceVdevOffset - deviceBridgeOffset)
        d.vdev = string(e, deviceVdevOffset, deviceTargetOffset - deviceVdevOffset)
        d.target = string(e, deviceTargetOffset, deviceEntrySize - deviceTargetOffset)
        return d
    }

    static func string(_ b: UnsafeRawBufferPointer, _ offset: Int, _ max: Int) -> String {
        var n = 0
        while n < max && b[offset + n] != 0 { n += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: b[offset..<offset + n]), as: UTF8.self)
    }
}
