/// A system description: the guests to run, as the config file states them (key names from
/// Xen's xl.cfg). Checked here, before anything starts; the host tool adds file checks.
public struct SystemDescription: Equatable {
    /// The keys a `[[guest]]` table takes (xl.cfg names, and `autostart`).
    public enum Key: String, CaseIterable {
        case name, kernel, memory, vcpus, cmdline, ramdisk, cpus, iomem, irqs, autostart, uuid, layout, enhanced, vif, disk, weight, cap
    }

    /// The line of each key as written, for messages; a key not written reports its table's line.
    public struct KeyLines: Equatable {
        /// Line of the `[[guest]]` header.
        public var header: Int
        var lines: [Int] = Array(repeating: 0, count: Key.allCases.count)
        public init(header: Int) { self.header = header }

        public subscript(key: Key) -> Int {
            get { let l = lines[Self.index(key)]; return l > 0 ? l : header }
            set { lines[Self.index(key)] = newValue }
        }

        static func index(_ key: Key) -> Int {
            var i = 0
            for k in Key.allCases { if k == key { return i }; i += 1 }
            return 0
        }
    }

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
        /// Started when the hypervisor boots (true), or left for the hypervisor console's
        /// `create NAME` (false). Not an xl.cfg key.
        public var autostart = true
        /// xl.cfg `uuid`: the domain handle a guest reads with XENVER_guest_handle; the host tool
        /// makes a random one when it is not written.
        public var uuid: GuestUUID?
        /// The machine it is given: QEMU virt's (the default) or Xen 4.17's arm64 domU's
        /// (`layout = "xen"`). Not an xl.cfg key (Xen has only its own machine).
        public var layout: GuestLayout.Kind = .virt
        /// Which Xen interfaces the guest is told about (dom0less `xen,enhanced`; default enabled).
        public var enhanced: XenEnhanced = .enabled
        /// Its vCPUs' share of a core against others' (xl.cfg `weight`, 1...65535, default 256 as
        /// Xen's credit2): each vCPU gets weight / (sum of the weights on its core).
        public var weight = Int(CreditScheduler.defaultWeight)
        /// The most CPU the guest's vCPUs use together, in percent of one core (xl.cfg `cap`;
        /// 0: no cap, 100: one core), even when the cores are otherwise idle.
        public var cap = 0
        /// PV network interfaces served by other guests (xl.cfg `vif`).
        public var vifs: [VirtualInterfaceSpec] = []
        /// PV disks served by other guests (xl.cfg `disk`).
        public var disks: [VirtualDiskSpec] = []
        /// Where each key was written, for messages.
        public var lines: KeyLines

        /// Line of the `[[guest]]` header.
        public var line: Int { lines.header }

        public init(name: String, kernel: String, memoryMiB: Int, vcpus: Int = 1, commandLine: String = "",
                    ramdisk: String? = nil, cpus: [Int] = [], line: Int = 0) {
            self.name = name; self.kernel = kernel; self.memoryMiB = memoryMiB; self.vcpus = vcpus
            self.commandLine = commandLine; self.ramdisk = ramdisk; self.cpus = cpus; self.lines = KeyLines(header: line)
        }

        /// `cpus` as a bit mask (bit n: core n); 0 means any core.
        public var affinity: UInt64 { cpus.reduce(0) { $0 | (($1 >= 0 && $1 < 32) ? 1 << UInt64($1) : 0) } }

        func problem(_ key: Key, _ message: String) -> Problem {
            Problem(line: lines[key], key: key.rawValue, message: message)
        }
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

    public static let minimumMemoryMiB = Limits.minimumMemoryMiB
    public static let maximumMemoryMiB = Limits.maximumMemoryMiB
    public static let maximumVCPUs = Limits.vcpusPerGuest
    /// xl.cfg `weight`'s upper bound (Xen's credit schedulers take 1...65535).
    public static let maximumWeight = 65535
    public static let maximumCores = Limits.cores
    /// Host RAM all guests together may use in this version.
    public static let maximumTotalMemoryMiB = Limits.maximumTotalMemoryMiB

    public struct Problem: Error, Equatable {
        public var line: Int
        public var key: String?
        public var message: String
        public init(line: Int, key: String?, message: String) { self.line = line; self.key = key; self.message = message }
    }

    /// Every problem found, in file order; empty when the description is usable.
    public func problems() -> [Problem] {
        var result: [Problem] = []
        if guests.isEmpty { result.append(Problem(line: 0, key: nil, message: "no [[guest]] tables: describe at least one guest")) }
        if guests.count > Limits.guests {
            let g = guests[Limits.guests]
            result.append(g.problem(.name, "'\(g.name)' is guest number \(Limits.guests + 1), but at most \(Limits.guests) guests can run: \(Limits.guestsReason)"))
        }
        var seen: [String] = []
        var seenUUIDs: [(uuid: GuestUUID, name: String)] = []
        var total = 0
        for g in guests {
            if g.name.utf8.isEmpty || g.name.utf8.count > Limits.nameLength {
                result.append(g.problem(.name, "must be 1 to \(Limits.nameLength) bytes long (it is \(g.name.utf8.count)): the boot manifest has room for \(Limits.nameLength)"))
            } else if !g.name.utf8.allSatisfy(Self.isNameCharacter) {
                result.append(g.problem(.name, "'\(g.name)' may use only letters, digits, '-', '_' and '.'"))
            }
            if seen.contains(g.name) {
                result.append(g.problem(.name, "'\(g.name)' names two guests; names must be unique"))
            }
            seen.append(g.name)
            if let u = g.uuid {
                // Reported on the later guest, as a repeated name is.
                if let earlier = seenUUIDs.first(where: { $0.uuid == u }) {
                    result.append(g.problem(.uuid, "\(u.text) is also the uuid of guest '\(earlier.name)'; every guest needs its own"))
                }
                seenUUIDs.append((u, g.name))
            }
            if g.memoryMiB < Limits.minimumMemoryMiB {
                result.append(g.problem(.memory, "\(g.memoryMiB) MiB is too little: a guest needs at least \(Limits.minimumMemoryMiB) MiB (its kernel and its 2 MiB device tree)"))
            } else if g.memoryMiB > Limits.maximumMemoryMiB {
                result.append(g.problem(.memory, "\(g.memoryMiB) MiB is too much: a guest can have at most \(Limits.maximumMemoryMiB) MiB (\(Limits.memoryReason))"))
            } else if g.layout == .xen, UInt64(g.memoryMiB) << 20 > XenDomUMachine.ram0.size {
                let most = XenDomUMachine.ram0.size >> 20
                result.append(g.problem(.memory, "\(g.memoryMiB) MiB is too much for layout = \"xen\": its RAM is Xen's GUEST_RAM0 (at most \(most) MiB at 0x40000000; swiftvisor does not add Xen's second bank); lower memory to \(most) or use layout = \"virt\""))
            }
            total += max(0, g.memoryMiB)
            if g.vcpus < 1 || g.vcpus > Limits.vcpusPerGuest {
                result.append(g.problem(.vcpus, "\(g.vcpus) is not a vCPU count swiftvisor can give: a guest has 1 to \(Limits.vcpusPerGuest) vCPUs"))
            }
            if g.iomem.count > Limits.deviceMemoryRanges {
                result.append(g.problem(.iomem, "\(g.iomem.count) ranges, but a guest can have at most \(Limits.deviceMemoryRanges) (the boot manifest has room for \(Limits.deviceMemoryRanges))"))
            }
            for r in g.iomem {
                let base = r.pageFrame << 12, size = r.pages << 12
                if r.pages == 0 || r.pages > 1 << 20 || r.pageFrame >= 1 << 36 {
                    result.append(g.problem(.iomem, "\(hexString(r.pageFrame)),\(r.pages) is not a usable range: the frame must be below 0x1000000000 and the pages 1 to 1048576"))
                    continue
                }
                // IPA/PA ranges the guest's machine gives a meaning to: RAM, the GIC, the UART.
                for (what, rb, rs) in GuestLayout.reservedForPassthrough(g.layout) where base < rb + rs && rb < base + size {
                    result.append(g.problem(.iomem, "\(hexString(r.pageFrame)),\(r.pages) overlaps \(what); only devices swiftvisor does not use may be passed through"))
                }
            }
            if g.irqs.count > Limits.interrupts {
                result.append(g.problem(.irqs, "\(g.irqs.count) interrupts, but a guest can have at most \(Limits.interrupts) (the boot manifest has room for \(Limits.interrupts))"))
            }
            for i in g.irqs where i < 32 || i >= 32 + VirtualGIC.defaultSPICount {
                result.append(g.problem(.irqs, "\(i) is not an SPI a guest can have (INTIDs 32...\(31 + VirtualGIC.defaultSPICount))"))
            }
            for c in g.cpus where c < 0 || c >= Limits.cores {
                result.append(g.problem(.cpus, "core \(c) is outside 0...\(Limits.cores - 1): swiftvisor runs on at most \(Limits.cores) cores"))
            }
            if g.weight < 1 || g.weight > Self.maximumWeight {
                result.append(g.problem(.weight, "\(g.weight) is not a weight: write 1 to \(Self.maximumWeight) (xl.cfg's range; 256 is the default)"))
            }
            if g.cap < 0 || g.cap > 100 * g.vcpus {
                result.append(g.problem(.cap, "\(g.cap) is not a cap for \(g.vcpus) vCPU(s): write 0 (no cap) to \(100 * g.vcpus) (percent of one core)"))
            }
            if g.commandLine.utf8.count > Limits.commandLineLength {
                result.append(g.problem(.cmdline, "\(g.commandLine.utf8.count) bytes long, but at most \(Limits.commandLineLength) fit in the boot manifest"))
            }
        }
        // A device belongs to one guest.
        var seenIRQs: [Int] = []
        for g in guests {
            for i in g.irqs {
                if seenIRQs.contains(i) { result.append(g.problem(.irqs, "interrupt \(i) is given to two guests")) }
                seenIRQs.append(i)
            }
        }
        // Only when each guest is within its own limit, which says more.
        if total > Limits.maximumTotalMemoryMiB, !guests.contains(where: { $0.memoryMiB > Limits.maximumMemoryMiB }),
           let largest = guests.max(by: { $0.memoryMiB < $1.memoryMiB }) {
            result.append(largest.problem(.memory, "the guests need \(total) MiB together, but at most \(Limits.maximumTotalMemoryMiB) MiB fit (\(Limits.memoryReason)); lower memory here or in another guest"))
        }
        result += deviceProblems()
        return result
    }

    /// Problems that depend on the machine: a `cpus` entry naming a core it does not have.
    public func problems(cores: Int) -> [Problem] {
        var result: [Problem] = []
        for g in guests {
            for c in g.cpus where c >= cores && c < Limits.cores {
                result.append(g.problem(.cpus, "guest '\(g.name)' names core \(c), but the machine has \(cores) core(s) (--cores)"))
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
