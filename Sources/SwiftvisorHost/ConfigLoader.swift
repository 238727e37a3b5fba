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
    static let guestKeys = ["name", "kernel", "memory", "vcpus", "cmdline", "ramdisk", "cpus", "iomem", "irqs"]

    /// Reads and checks `file`. Built-in guests (`kernel = "guest:NAME"`) are resolved with
    /// `builtinGuest`, which may build them. Throws every problem found at once.
    public static func load(_ file: URL, builtinGuest: (String) throws -> URL?) throws -> LoadedSystem {
        let path = file.path
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw [ConfigError(file: path, line: nil, key: nil, message: "cannot read the file (does it exist?)")]
        }
        let document: TOMLDocument
        do { document = try TOMLDocument(parsing: text) } catch let e as TOMLDocument.SyntaxError {
            throw [ConfigError(file: path, line: e.line, key: nil, message: e.message)]
        }
        var errors: [ConfigError] = []
        var guests: [SystemDescription.Guest] = []
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
            if let g = guest(from: table, file: path, errors: &errors) { guests.append(g) }
        }
        let description = SystemDescription(guests: guests)
        for p in description.problems() {
            errors.append(ConfigError(file: path, line: p.line, key: p.key, message: p.message))
        }
        let base = file.deletingLastPathComponent()
        var kernels: [URL] = [], ramdisks: [URL?] = []
        for g in guests {
            let kernel = try resolve(g.kernel, base: base, builtinGuest: builtinGuest)
            kernels.append(kernel)
            if let problem = checkKernel(kernel, memoryMiB: g.memoryMiB) {
                errors.append(ConfigError(file: path, line: g.line, key: "kernel", message: "guest '\(g.name)': \(problem)"))
            }
            if let r = g.ramdisk {
                let url = URL(fileURLWithPath: r, relativeTo: base).standardizedFileURL
                ramdisks.append(url)
                if !FileManager.default.isReadableFile(atPath: url.path) {
                    errors.append(ConfigError(file: path, line: g.line, key: "ramdisk", message: "guest '\(g.name)': no readable file at \(url.path)"))
                }
            } else { ramdisks.append(nil) }
        }
        if !errors.isEmpty { throw errors }
        return LoadedSystem(description: description, configFile: file, kernels: kernels, ramdisks: ramdisks)
    }

    static func guest(from table: TOMLDocument.Table, file: String, errors: inout [ConfigError]) -> SystemDescription.Guest? {
        var name: String?, kernel: String?, memory: Int?, vcpus = 1, cmdline = "", ramdisk: String?, cpus: [Int] = []
        var iomem: [SystemDescription.DeviceMemory] = [], irqs: [Int] = []
        func typeError(_ e: TOMLDocument.Entry, _ expected: String) {
            errors.append(ConfigError(file: file, line: e.line, key: e.key, message: "must be \(expected), not \(e.value.typeName)"))
        }
        for e in table.entries {
            switch (e.key, e.value) {
            case ("name", .string(let s)): name = s
            case ("kernel", .string(let s)): kernel = s
            case ("memory", .integer(let v)): memory = v
            case ("vcpus", .integer(let v)): vcpus = v
            case ("cmdline", .string(let s)): cmdline = s
            case ("ramdisk", .string(let s)): ramdisk = s
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
            case ("name", _), ("kernel", _), ("cmdline", _), ("ramdisk", _): typeError(e, "a string")
            case ("memory", _): typeError(e, "an integer (MiB)")
            case ("vcpus", _): typeError(e, "an integer")
            default:
                errors.append(ConfigError(file: file, line: e.line, key: e.key,
                                          message: "unknown key; a [[guest]] takes \(guestKeys.joined(separator: ", "))"))
            }
        }
        for (key, present) in [("name", name != nil), ("kernel", kernel != nil), ("memory", memory != nil)] where !present {
            errors.append(ConfigError(file: file, line: table.line, key: key, message: "missing in this [[guest]]"))
        }
        guard let name, let kernel, let memory else { return nil }
        var g = SystemDescription.Guest(name: name, kernel: kernel, memoryMiB: memory, vcpus: vcpus, commandLine: cmdline,
                                        ramdisk: ramdisk, cpus: cpus, line: table.line)
        g.iomem = iomem
        g.irqs = irqs
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
        guard let data = FileManager.default.contents(atPath: file.path) else {
            return file.path.contains("guest:") ? "no built-in guest by that name (see Guests/)" : "no readable file at \(file.path)"
        }
        return data.withUnsafeBytes { bytes -> String? in
            let image: KernelImage
            do { image = try KernelImage.parse(bytes) } catch {
                return "\(file.lastPathComponent) is not an AArch64 ELF executable or arm64 Linux Image (\(error))"
            }
            // The last 2 MiB hold the guest's device tree (docs/guest-boot.md).
            let ram = AddressRange(base: GuestMachine.ramBase, size: UInt64(max(memoryMiB - 2, 0)) << 20)
            do { _ = try image.placement(in: ram) } catch {
                return "\(file.lastPathComponent) does not fit in \(memoryMiB) MiB of guest RAM at 0x40000000, less 2 MiB for the device tree (\(error)); raise memory"
            }
            return nil
        }
    }
}

extension Array: @retroactive Error where Element == ConfigError {}
