/// A system description: the guests to run, as the config file states them (key names from
/// Xen's xl.cfg). Checked here, before anything starts; the host tool adds file checks.
public struct SystemDescription: Equatable {
    public struct Guest: Equatable {
        public var name: String
        /// Path as written (relative to the config file), or `guest:NAME` for a built-in test guest.
        public var kernel: String
        public var memoryMiB: Int
        public var vcpus: Int
        public var commandLine: String
        public var ramdisk: String?
        /// Physical cores its vCPUs may run on (xl.cfg `cpus`); empty means any.
        public var cpus: [Int]
        /// Device memory passed through: page frame and page count (xl.cfg `iomem`).
        public var iomem: [DeviceMemory] = []
        /// Physical SPIs passed through (xl.cfg `irqs`).
        public var irqs: [Int] = []
        /// Line of the `[[guest]]` header, for messages.
        public var line: Int
        /// Started at boot (default); otherwise by the hypervisor console's `create NAME`.
        public var autostart = true

        public init(name: String, kernel: String, memoryMiB: Int, vcpus: Int = 1, commandLine: String = "",
                    ramdisk: String? = nil, cpus: [Int] = [], line: Int = 0) {
            self.name = name; self.kernel = kernel; self.memoryMiB = memoryMiB; self.vcpus = vcpus
            self.commandLine = commandLine; self.ramdisk = ramdisk; self.cpus = cpus; self.line = line
        }

        /// `cpus` as a bit mask (bit n: core n); 0 means any core.
        public var affinity: UInt64 { cpus.reduce(0) { $0 | (($1 >= 0 && $1 < 32) ? 1 << UInt64($1) : 0) } }
    }

    /// One xl.cfg `iomem` entry: "PAGE_FRAME,PAGES" (hexadecimal frame, 4 KiB pages).
    public struct DeviceMemory: Equatable {
        public var pageFrame: UInt64
        public var pages: UInt64
        public init(pageFrame: UInt64, pages: UInt64) { self.pageFrame = pageFrame; self.pages = pages }

        /// Parses "0x9010,1" or "9010,1" (xl.cfg takes the frame in hexadecimal).
        public init?(_ text: String) {
            let parts = text.utf8.split(separator: UInt8(ascii: ","))
            guard parts.count == 2 else { return nil }
            var frame = Array(parts[0])
            if frame.count > 2, frame[0] == UInt8(ascii: "0"), frame[1] | 0x20 == UInt8(ascii: "x") { frame.removeFirst(2) }
            guard let f = parseNumber(Array("0x".utf8) + frame), let n = parseNumber(parts[1]) else { return nil }
            pageFrame = f; pages = n
        }
    }

    public var guests: [Guest]
    public init(guests: [Guest]) { self.guests = guests }

    /// IPA/PA ranges a passed-through device may not overlap: guest RAM and the devices the
    /// hypervisor emulates or drives itself (QEMU virt: GIC, UART).
    static let reservedForPassthrough: [(String, UInt64, UInt64)] = [
        ("guest RAM", GuestMachine.ramBase.rawValue, 1 << 39),
        ("the GIC", 0x0800_0000, 0x0100_0000),
        ("the UART", GuestMachine.uart.base.rawValue, GuestMachine.uart.size),
    ]

    public static let minimumMemoryMiB = 4
    public static let maximumMemoryMiB = 16384
    public static let maximumVCPUs = 8
    public static let maximumCores = 8
    /// Host RAM all guests together may use in this version.
    public static let maximumTotalMemoryMiB = 16384

    public struct Problem: Error, Equatable {
        public var line: Int
        public var key: String?
        public var message: String
    }

    /// Every problem found, in file order; empty when the description is usable.
    public func problems() -> [Problem] {
        var result: [Problem] = []
        if guests.isEmpty { result.append(Problem(line: 0, key: nil, message: "no [[guest]] tables: describe at least one guest")) }
        var seen: [String] = []
        var total = 0
        for g in guests {
            if g.name.utf8.isEmpty || g.name.utf8.count > BootManifest.maxNameLength {
                result.append(Problem(line: g.line, key: "name", message: "must be 1 to \(BootManifest.maxNameLength) characters"))
            } else if !g.name.utf8.allSatisfy(Self.isNameCharacter) {
                result.append(Problem(line: g.line, key: "name", message: "'\(g.name)' may use only letters, digits, '-', '_' and '.'"))
            }
            if seen.contains(g.name) {
                result.append(Problem(line: g.line, key: "name", message: "'\(g.name)' names two guests; names must be unique"))
            }
            seen.append(g.name)
            if g.memoryMiB < Self.minimumMemoryMiB || g.memoryMiB > Self.maximumMemoryMiB {
                result.append(Problem(line: g.line, key: "memory",
                                      message: "\(g.memoryMiB) MiB is outside \(Self.minimumMemoryMiB)...\(Self.maximumMemoryMiB) MiB"))
            }
            total += max(0, g.memoryMiB)
            if g.vcpus < 1 || g.vcpus > Self.maximumVCPUs {
                result.append(Problem(line: g.line, key: "vcpus", message: "\(g.vcpus) is outside 1...\(Self.maximumVCPUs)"))
            }
            if g.iomem.count > BootManifest.maxDeviceMemoryRanges {
                result.append(Problem(line: g.line, key: "iomem", message: "at most \(BootManifest.maxDeviceMemoryRanges) ranges"))
            }
            for r in g.iomem {
                let base = r.pageFrame << 12, size = r.pages << 12
                if r.pages == 0 || r.pages > 1 << 20 || r.pageFrame >= 1 << 36 {
                    result.append(Problem(line: g.line, key: "iomem", message: "\(hexString(r.pageFrame)),\(r.pages) is not a usable range"))
                    continue
                }
                for (what, rb, rs) in Self.reservedForPassthrough where base < rb + rs && rb < base + size {
                    result.append(Problem(line: g.line, key: "iomem",
                                          message: "\(hexString(r.pageFrame)),\(r.pages) overlaps \(what); only devices swiftvisor does not use may be passed through"))
                }
            }
            if g.irqs.count > BootManifest.maxInterrupts {
                result.append(Problem(line: g.line, key: "irqs", message: "at most \(BootManifest.maxInterrupts) interrupts"))
            }
            for i in g.irqs where i < 32 || i >= 32 + VirtualGIC.defaultSPICount {
                result.append(Problem(line: g.line, key: "irqs",
                                      message: "\(i) is not an SPI a guest can have (INTIDs 32...\(31 + VirtualGIC.defaultSPICount))"))
            }
            for c in g.cpus where c < 0 || c >= Self.maximumCores {
                result.append(Problem(line: g.line, key: "cpus", message: "core \(c) is outside 0...\(Self.maximumCores - 1)"))
            }
            if g.commandLine.utf8.count > BootManifest.maxCommandLineLength {
                result.append(Problem(line: g.line, key: "cmdline", message: "longer than \(BootManifest.maxCommandLineLength) bytes"))
            }
        }
        // A device belongs to one guest.
        var seenIRQs: [Int] = []
        for g in guests {
            for i in g.irqs {
                if seenIRQs.contains(i) { result.append(Problem(line: g.line, key: "irqs", message: "interrupt \(i) is given to two guests")) }
                seenIRQs.append(i)
            }
        }
        if total > Self.maximumTotalMemoryMiB {
            result.append(Problem(line: 0, key: "memory",
                                  message: "the guests need \(total) MiB together; at most \(Self.maximumTotalMemoryMiB) MiB fit"))
        }
        return result
    }

    /// Problems that depend on the machine: a `cpus` entry naming a core it does not have.
    public func problems(cores: Int) -> [Problem] {
        var result: [Problem] = []
        for g in guests {
            for c in g.cpus where c >= cores {
                result.append(Problem(line: g.line, key: "cpus",
                                      message: "guest '\(g.name)' names core \(c), but the machine has \(cores) core(s) (--cores)"))
            }
        }
        return result
    }

    func hexString(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    static func isNameCharacter(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): return true
        default: return false
        }
    }
}
