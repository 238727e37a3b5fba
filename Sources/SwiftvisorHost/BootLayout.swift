import Foundation
import SwiftvisorCore

/// Where the host tool places the boot manifest and guest images in the machine's RAM, and
/// how much RAM the machine gets. QEMU puts the hypervisor Image (text_offset 0) at RAM base
/// + 2 MiB and the DTB at + 128 MiB (RAM base: 0x4000_0000 on `virt`, 0 on the boards);
/// modules start above those, at +256 MiB, or just above the hypervisor image if it was
/// placed elsewhere and would overlap them.
public struct BootLayout {
    /// QEMU virt's RAM base; `board.ramBase` for the others.
    public static let ramBase: UInt64 = Board.virt.ramBase
    /// The boot modules (manifest, then kernels and ramdisks) start 256 MiB into RAM.
    public static let modulesOffset: UInt64 = 256 << 20
    /// QEMU's `-kernel` loads an Image with text_offset 0 at RAM base + 2 MiB (its own boot
    /// code sits at the base).
    public static let defaultImageAddress: UInt64 = ramBase + 2 << 20
    /// QEMU's DTB for a `-kernel` Image: at RAM base + min(RAM / 2, 128 MiB), and our machines
    /// have at least 256 MiB; virt's tree is at most 1 MiB, 2 MiB are kept clear.
    public static let dtbWindow = AddressRange(base: ramBase + 128 << 20, size: 2 << 20)

    /// The hypervisor image with its .bss, heap and stacks (image_size of its Image header).
    public var image: AddressRange<UInt64>

    public struct Module { public var file: URL; public var address: UInt64 }

    public var board: Board
    public var manifest: BootManifest
    public var manifestAddress: UInt64
    public var modules: [Module] = []
    public var machineRAMMiB: Int

    /// `image`: where the hypervisor image will be and how large it is; by default where
    /// QEMU's `-kernel` puts it, with room for 16 MiB.
    public init(system: LoadedSystem, board: Board = .virt, image: AddressRange<UInt64>? = nil) throws {
        self.board = board
        let image = image ?? .init(base: board.ramBase + 2 << 20, size: 16 << 20)
        self.image = image
        var base = board.ramBase + Self.modulesOffset
        var placed = try Self.place(system, at: base)
        if Self.overlaps(image, .init(base: base, size: placed.end - base)) {
            base = alignUp(image.base + image.size, 2 << 20)
            placed = try Self.place(system, at: base)
        }
        manifestAddress = base
        manifest = BootManifest(guests: placed.guests, devices: system.description.xenDevices)
        modules = placed.modules
        // Room for the modules, every guest's RAM (2 MiB-rounded) and 64 MiB for the
        // hypervisor's own tables, rounded up to 256 MiB.
        guestRAMMiB = system.description.guests.reduce(0) { $0 + ($1.memoryMiB + 1) / 2 * 2 }
        modulesMiB = Int((max(placed.end, image.base + image.size) - board.ramBase) >> 20) + 1
        neededRAMMiB = modulesMiB + guestRAMMiB + Self.hypervisorMiB
        machineRAMMiB = board.fixedRAMMiB ?? Int(alignUp(UInt64(neededRAMMiB), 256))
    }

    static func overlaps(_ a: AddressRange<UInt64>, _ b: AddressRange<UInt64>) -> Bool {
        a.base < b.base + b.size && b.base < a.base + a.size
    }

    /// The manifest (at most 64 guests of 1 KiB and 32 devices of 256 bytes: 128 KiB) at
    /// `base`, then each guest's kernel and ramdisk, 2 MiB aligned.
    static func place(_ system: LoadedSystem, at base: UInt64) throws -> (guests: [BootManifest.Guest], modules: [Module], end: UInt64) {
        var address = alignUp(base + 128 << 10, 2 << 20)
        var guests: [BootManifest.Guest] = []
        var modules: [Module] = []
        for (i, g) in system.description.guests.enumerated() {
            let kernelSize = try Self.size(of: system.kernels[i])
            let kernel = AddressRange(base: HostPhysicalAddress(address), size: kernelSize)
            modules.append(Module(file: system.kernels[i], address: address))
            address = alignUp(address + kernelSize, 2 << 20)
            var ramdisk: AddressRange<HostPhysicalAddress>?
            if let r = system.ramdisks[i] {
                let size = try Self.size(of: r)
                ramdisk = .init(base: HostPhysicalAddress(address), size: size)
                modules.append(Module(file: r, address: address))
                address = alignUp(address + size, 2 << 20)
            }
            var guest = BootManifest.Guest(name: g.name, kernel: kernel, ramdisk: ramdisk, memoryBytes: UInt64(g.memoryMiB) << 20,
                                vcpus: g.vcpus, commandLine: g.commandLine, affinity: g.affinity,
                                deviceMemory: g.iomem.map { .init(base: HostPhysicalAddress($0.pageFrame << 12), size: $0.pages << 12) },
                                interrupts: g.irqs.map { UInt32($0) }, autostart: g.autostart,
                                uuid: (g.uuid ?? Self.randomUUID()).bytes)
            guest.layout = g.layout
            guest.enhanced = g.enhanced
            guest.weight = UInt32(clamping: g.weight)
            guest.cap = UInt32(clamping: g.cap)
            guests.append(guest)
        }
        return (guests, modules, address)
    }

    /// A fresh RFC 4122 version 4 UUID, for a guest whose config gives none (as xl does).
    static func randomUUID() -> GuestUUID {
        var generator = SystemRandomNumberGenerator()
        return GuestUUID.version4(random: (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    /// Why the hypervisor image cannot be loaded at `address` on QEMU virt; nil if it can.
    /// (`-kernel` then carries a BootTrampoline at RAM base + 0x8_0000.)
    public static func loadAddressProblem(_ address: UInt64, imageSize: UInt64) -> String? {
        let hex = "0x\(String(address, radix: 16))"
        if address % (2 << 20) != 0 { return "load address \(hex) is not 2 MiB aligned (the Image header asks for a 2 MiB-aligned base)" }
        if address < ramBase + 2 << 20 { return "load address \(hex) is below RAM base + 2 MiB (QEMU's boot code and the trampoline are there)" }
        if overlaps(.init(base: address, size: imageSize), dtbWindow) {
            return "the image at \(hex) (\(imageSize >> 10) KiB) would overlap the device tree QEMU places at 0x\(String(dtbWindow.base, radix: 16))"
        }
        return nil
    }

    /// The guests' RAM (each rounded to 2 MiB), and the hypervisor image, DTB and boot modules
    /// (from RAM base to the end of the last module).
    public private(set) var guestRAMMiB = 0
    public private(set) var modulesMiB = 0
    /// All of it: from RAM base to the end of what the hypervisor needs.
    public private(set) var neededRAMMiB = 0
    /// The hypervisor's own tables and heap.
    public static let hypervisorMiB = 64

    /// Why the machine cannot have this much RAM, or why this host cannot give it; nil if it can.
    /// `line` and `key` point at the largest guest's `memory`, the usual thing to lower.
    public func memoryProblem(host: HostMemory?) -> String? {
        let breakdown = "\(guestRAMMiB) MiB of guest RAM, \(modulesMiB) MiB for the hypervisor image and the kernels and ramdisks, \(Self.hypervisorMiB) MiB for the hypervisor's tables"
        if let usable = board.usableRAMMiB, neededRAMMiB > usable {
            return "the machine would need \(neededRAMMiB) MiB of RAM (\(breakdown)), but the \(board.title) gives the hypervisor \(usable) MiB"
        }
        if machineRAMMiB > Limits.maximumMachineRAMMiB {
            return "the machine would need \(machineRAMMiB) MiB of RAM (\(breakdown)), but swiftvisor gives QEMU virt at most \(Limits.maximumMachineRAMMiB) MiB"
        }
        if let host, machineRAMMiB + HostMemory.qemuOverheadMiB > host.availableMiB {
            return "QEMU would need \(machineRAMMiB + HostMemory.qemuOverheadMiB) MiB of host memory (machine RAM \(machineRAMMiB) MiB: \(breakdown); and \(HostMemory.qemuOverheadMiB) MiB for QEMU itself), but this host has only \(host.availableMiB) MiB available (MemAvailable; MemTotal \(host.totalMiB) MiB); lower memory"
        }
        return nil
    }

    static func size(of file: URL) throws -> UInt64 {
        let a = try FileManager.default.attributesOfItem(atPath: file.path)
        return (a[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// The manifest and every module as one image of RAM from `manifestAddress` (gaps zeroed):
    /// what a board's boot loader loads in one go (the Pi firmware's `initramfs FILE ADDRESS`,
    /// U-Boot's `load`), at `manifestAddress`.
    public func modulesImage() throws -> Data {
        var blob = Data(manifest.encoded)
        for m in modules {
            let offset = Int(m.address - manifestAddress)
            if blob.count < offset { blob.append(Data(count: offset - blob.count)) }
            blob.append(try Data(contentsOf: m.file))
        }
        return blob
    }

    /// Writes the manifest to `directory` and returns QEMU's arguments for the modules, with
    /// `bootArguments` (such as `swiftvisor.vhe=1`) added to the hypervisor's command line.
    public func qemuArguments(writingManifestTo directory: URL, bootArguments: [String] = []) throws -> [String] {
        let manifestFile = directory.appendingPathComponent("manifest.bin")
        try Data(manifest.encoded).write(to: manifestFile)
        // swiftvisor.mux=1: consoles as separate streams on the serial line (ConsoleMux).
        let append = ["swiftvisor.manifest=0x\(String(manifestAddress, radix: 16))", "swiftvisor.mux=1"] + bootArguments
        var args = ["-append", append.joined(separator: " "),
                    "-device", "loader,file=\(manifestFile.path),addr=0x\(String(manifestAddress, radix: 16)),force-raw=on"]
        for m in modules {
            args += ["-device", "loader,file=\(m.file.path),addr=0x\(String(m.address, radix: 16)),force-raw=on"]
        }
        return args
    }
}
