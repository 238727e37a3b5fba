import Foundation
import SwiftvisorCore

/// A problem in a system description, named by file, line and key, with a hint at the fix.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public var description: String {
        var s = file
        if let line, line > 0 { s += ":\(line)" }
        s += ": "
        if let key { s += "'\(key)': " }
        return s + message
    }
}

/// A loaded, checked system description with every kernel resolved to a file.
public struct LoadedSystem {
    public var description: SystemDescription
    public var configFile: URL
    /// Per guest, the kernel (and ramdisk) files to load.
    public var kernels: [URL]
    public var ramdisks: [URL?]
}

public enum ConfigLoader {
    static let guestKeys = SystemDescription.Key.allCases.map(\.rawValue)

    /// Reads and checks `file`. Built-in guests (`kernel = "guest:NAME"`) are resolved with
    /// `builtinGuest`, which may build them. Throws every problem found at once.
    public static func load(_ file: URL, builtinGuest: (String) throws -> URL?) throws -> LoadedSystem {
        let path = file.path
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw [ConfigError(file: path, line: nil, key: nil, message: "cannot read the file as UTF-8 text (does it exist?)")]
        }
        let document: TOMLDocument
        do { document = try TOMLDocument(parsing: text) } catch let e as TOMLDocument.SyntaxError {
            throw [ConfigError(file: path, line: e.line, key: nil, message: e.message)]
        }
        var errors: [ConfigError] = []
        var guests: [SystemDescription.Guest] = []
        var guestTables = 0
        for table in document.tables {
            if table.name.isEmpty {
                for e in table.entries {
                    errors.append(ConfigError(file: path, line: e.line, key: e.key,
                                              message: "top-level keys are not known; put guest settings under a [[guest]] header"))
                }
                continue
            }
            guard table.name == "guest", table.isArrayElement else {
                errors.append(ConfigError(file: path, line: table.line, key: nil,
                                          message: "unknown table [\(table.name)]; guests are described with [[guest]]"))
                continue
            }
            guestTables += 1
            if let g = guest(from: table, file: path, errors: &errors) { guests.append(g) }
        }
        let description = SystemDescription(guests: guests)
        // With no guest left, "no [[guest]] tables" is true only if the file has none: otherwise
        // each of them already has its errors above.
        if !guests.isEmpty || guestTables == 0 {
            errors += description.problems().map { ConfigError(file: path, problem: $0) }
        }
        let base = file.deletingLastPathComponent()
        var kernels: [URL] = [], ramdisks: [URL?] = []
        for g in guests {
            let kernel = try resolve(g.kernel, base: base, builtinGuest: builtinGuest)
            kernels.append(kernel)
            let ramdisk = g.ramdisk.map { URL(fileURLWithPath: $0, relativeTo: base).standardizedFileURL }
            ramdisks.append(ramdisk)
            // Memory below the minimum has its error; where the images would go is moot then.
            guard g.memoryMiB >= Limits.minimumMemoryMiB else { continue }
            let problems = checkImages(kernel: kernel, ramdisk: ramdisk, memoryMiB: g.memoryMiB)
            if let p = problems.kernel {
                errors.append(ConfigError(file: path, line: g.lines[.kernel], key: "kernel", message: "guest '\(g.name)': \(p)"))
            }
            if let p = problems.ramdisk {
                errors.append(ConfigError(file: path, line: g.lines[.ramdisk], key: "ramdisk", message: "guest '\(g.name)': \(p)"))
            }
        }
        if !errors.isEmpty { throw errors }
        return LoadedSystem(description: description, configFile: file, kernels: kernels, ramdisks: ramdisks)
    }

    static func guest(from table: TOMLDocument.Table, file: String, errors: inout [ConfigError]) -> SystemDescription.Guest? {
        var name: String?, kernel: String?, memory: Int?, vcpus = 1, cmdline = "", ramdisk: String?, cpus: [Int] = []
        var iomem: [SystemDescription.DeviceMemory] = [], irqs: [Int] = [], autostart = true, uuid: GuestUUID?
        var layout = GuestLayout.Kind.virt
        var weight = Int(CreditScheduler.defaultWeight), cap = 0
        var enhanced = XenEnhanced.enabled
        var vifs: [VirtualInterfaceSpec] = [], disks: [VirtualDiskSpec] = []
        var lines = SystemDescription.KeyLines(header: table.line)
        var written: [String] = []
        func typeError(_ e: TOMLDocument.Entry, _ expected: String) {
            errors.append(ConfigError(file: file, line: e.line, key: e.key, message: "must be \(expected), not \(e.value.typeName)"))
        }
        for e in table.entries {
            written.append(e.key)
            if let key = SystemDescription.Key(rawValue: e.key) { lines[key] = e.line }
            switch (e.key, e.value) {
            case ("name", .string(let s)): name = s
            case ("kernel", .string(let s)): kernel = s
            case ("memory", .integer(let v)): memory = v
            case ("vcpus", .integer(let v)): vcpus = v
            case ("weight", .integer(let v)): weight = v
            case ("cap", .integer(let v)): cap = v
            case ("cmdline", .string(let s)): cmdline = s
            case ("ramdisk", .string(let s)): ramdisk = s
            case ("autostart", .boolean(let b)): autostart = b
            case ("uuid", .string(let s)):
                if let u = GuestUUID(s) { uuid = u } else {
                    errors.append(ConfigError(file: file, line: e.line, key: e.key,
                                              message: "'\(s)' is not a UUID: write 32 hexadecimal digits as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"))
                }
            case ("layout", .string(let s)):
                if let kind = GuestLayout.Kind(name: s) { layout = kind } else {
                    errors.append(ConfigError(file: file, line: e.line, key: e.key,
                                              message: "'\(s)' is not a layout: write \"virt\" (QEMU virt's machine, the default) or \"xen\" (the machine Xen 4.17 gives an arm64 domU)"))
                }
            case ("enhanced", .string(let s)):
                if let v = XenEnhanced(name: s) { enhanced = v } else {
                    errors.append(ConfigError(file: file, line: e.line, key: e.key,
                                              message: "'\(s)' is not a choice: write \"enabled\", \"no-xenstore\" or \"disabled\" (Xen's dom0less xen,enhanced)"))
                }
            case ("enhanced", _): typeError(e, "a string: \"enabled\", \"no-xenstore\" or \"disabled\"")
            case ("cpus", .array(let items)):
                let ints = items.compactMap { item -> Int? in if case .integer(let v) = item { return v } else { return nil } }
                if ints.count == items.count { cpus = ints } else { typeError(e, "an array of core numbers") }
            case ("cpus", _): typeError(e, "an array of core numbers, e.g. [0, 1]")
            case ("irqs", .array(let items)):
                let ints = items.compactMap { item -> Int? in if case .integer(let v) = item { return v } else { return nil } }
                if ints.count == items.count { irqs = ints } else { typeError(e, "an array of interrupt numbers (INTIDs)") }
            case ("irqs", _): typeError(e, "an array of interrupt numbers (INTIDs), e.g. [34]")
            case ("iomem", .array(let items)):
                for item in items {
                    guard case .string(let text) = item, let range = SystemDescription.DeviceMemory(text) else {
                        errors.append(ConfigError(file: file, line: e.line, key: e.key,
                                                  message: "each entry must be \"PAGE_FRAME,PAGES\" with a hexadecimal frame, e.g. \"0x9010,1\""))
                        continue
                    }
                    iomem.append(range)
                }
            case ("iomem", _): typeError(e, "an array of \"PAGE_FRAME,PAGES\" strings")
            case ("vif", .array(let items)):
                for item in items {
                    guard case .string(let text) = item else { typeError(e, "an array of strings, e.g. [\"backend=NAME\"]"); break }
                    do { vifs.append(try VirtualInterfaceSpec(parsing: text)) } catch {
                        errors.append(ConfigError(file: file, line: e.line, key: e.key, message: "\"\(text)\": \(error.message)"))
                    }
                }
            case ("vif", _): typeError(e, "an array of strings, e.g. [\"backend=NAME, bridge=xenbr0\"]")
            case ("disk", .array(let items)):
                for item in items {
                    guard case .string(let text) = item else { typeError(e, "an array of strings, e.g. [\"backend=NAME, vdev=xvda, target=PATH\"]"); break }
                    do { disks.append(try VirtualDiskSpec(parsing: text)) } catch {
                        errors.append(ConfigError(file: file, line: e.line, key: e.key, message: "\"\(text)\": \(error.message)"))
                    }
                }
            case ("disk", _): typeError(e, "an array of strings, e.g. [\"backend=NAME, vdev=xvda, target=PATH\"]")
            case ("name", _), ("kernel", _), ("cmdline", _), ("ramdisk", _): typeError(e, "a string")
            case ("uuid", _): typeError(e, "a string \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\"")
            case ("layout", _): typeError(e, "a string, \"virt\" or \"xen\"")
            case ("memory", _): typeError(e, "an integer (MiB)")
            case ("vcpus", _): typeError(e, "an integer")
            case ("weight", _): typeError(e, "an integer, 1 to 65535")
            case ("cap", _): typeError(e, "an integer: percent of one core, 0 for no cap")
            case ("autostart", _): typeError(e, "true or false")
            default:
                errors.append(ConfigError(file: file, line: e.line, key: e.key,
                                          message: "unknown key; a [[guest]] takes \(guestKeys.joined(separator: ", "))"))
            }
        }
        // A key written with the wrong type already has its error; it is not also "missing".
        for key in ["name", "kernel", "memory"] where !written.contains(key) {
            errors.append(ConfigError(file: file, line: table.line, key: key, message: "missing in this [[guest]]"))
        }
        guard let name, let kernel, let memory else { return nil }
        var g = SystemDescription.Guest(name: name, kernel: kernel, memoryMiB: memory, vcpus: vcpus, commandLine: cmdline,
                                        ramdisk: ramdisk, cpus: cpus, line: table.line)
        g.iomem = iomem
        g.irqs = irqs
        g.autostart = autostart
        g.uuid = uuid
        g.layout = layout
        g.enhanced = enhanced
        g.weight = weight
        g.cap = cap
        g.vifs = vifs
        g.disks = disks
        g.lines = lines
        return g
    }

    static func resolve(_ kernel: String, base: URL, builtinGuest: (String) throws -> URL?) throws -> URL {
        if kernel.hasPrefix("guest:") {
            let name = String(kernel.dropFirst("guest:".count))
            if let url = try builtinGuest(name) { return url }
            return URL(fileURLWithPath: "/nonexistent/guest:\(name)")
        }
        return URL(fileURLWithPath: kernel, relativeTo: base).standardizedFileURL
    }

    /// nil if `file` is an AArch64 ELF or arm64 Image that fits in `memoryMiB`; else why not.
    public static func checkKernel(_ file: URL, memoryMiB: Int) -> String? {
        checkImages(kernel: file, ramdisk: nil, memoryMiB: memoryMiB).kernel
    }

    /// Why the kernel (an AArch64 ELF or arm64 Image) or the ramdisk cannot be loaded into
    /// `memoryMiB` of guest RAM as the hypervisor does (docs/guest-boot.md: the device tree in
    /// the last 2 MiB, the ramdisk just below it, above the kernel); nil for each that can.
    static func checkImages(kernel file: URL, ramdisk: URL?, memoryMiB: Int) -> (kernel: String?, ramdisk: String?) {
        var ramdiskProblem: String?
        var ramdiskSize: UInt64 = 0
        if let ramdisk {
            if let size = (try? FileManager.default.attributesOfItem(atPath: ramdisk.path))?[.size] as? NSNumber,
               FileManager.default.isReadableFile(atPath: ramdisk.path) {
                ramdiskSize = size.uint64Value
            } else {
                ramdiskProblem = "no readable file at \(ramdisk.path)"
            }
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            let problem = file.path.contains("guest:") ? "no built-in guest by that name (see Guests/)" : "no readable file at \(file.path)"
            return (problem, ramdiskProblem)
        }
        return data.withUnsafeBytes { bytes -> (String?, String?) in
            let image: KernelImage
            do { image = try KernelImage.parse(bytes) } catch {
                let reason = (error as? KernelImage.ParseError)?.reason ?? "cannot be read as a kernel"
                return ("\(file.lastPathComponent) \(reason); a kernel must be an AArch64 ELF executable or an arm64 Linux Image", ramdiskProblem)
            }
            let dtbMiB = 2
            let ram = AddressRange(base: GuestMachine.ramBase, size: UInt64(max(memoryMiB - dtbMiB, 0)) << 20)
            let end: GuestPhysicalAddress
            do { end = try image.placement(in: ram).end } catch {
                let reason = (error as? KernelImage.PlacementError)?.reason ?? "it does not fit"
                return ("\(file.lastPathComponent) does not fit in \(memoryMiB) MiB of guest RAM at 0x40000000 less \(dtbMiB) MiB for the device tree: \(reason); raise memory", ramdiskProblem)
            }
            if ramdiskProblem == nil, ramdiskSize > 0 {
                let free = ram.end.rawValue - alignUp(end.rawValue, PageSize.granule)
                if ramdiskSize > free {
                    let needMiB = (alignUp(end.rawValue, PageSize.granule) - GuestMachine.ramBase.rawValue + ramdiskSize + (1 << 20) - 1) >> 20 + UInt64(dtbMiB)
                    ramdiskProblem = "\(ramdisk!.lastPathComponent) (\(ramdiskSize >> 20) MiB) does not fit between the kernel and the device tree in \(memoryMiB) MiB of guest RAM; memory must be at least \(needMiB)"
                }
            }
            return (nil, ramdiskProblem)
        }
    }
}

extension ConfigError {
    init(file: String, problem p: SystemDescription.Problem) {
        self.init(file: file, line: p.line, key: p.key, message: p.message)
    }
}

extension Array: @retroactive Error where Element == ConfigError {}
