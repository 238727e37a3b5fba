import Foundation

/// Builds the bare-metal hypervisor image and the test guests with the Swift toolchain's own
/// swiftc (Embedded Swift), clang and ld.lld. A step is skipped when none of its inputs
/// changed since it last ran (a stamp of paths, sizes and modification times).
public struct ImageBuilder {
    public let layout: ProjectLayout
    public let toolchain: Toolchain
    /// Progress lines ("building hypervisor image"), for the user.
    public var log: (String) -> Void = { _ in }

    public init(layout: ProjectLayout = .current, toolchain: Toolchain) {
        self.layout = layout
        self.toolchain = toolchain
    }

    static let swiftFlags = [
        "-target", "aarch64-none-none-elf", "-enable-experimental-feature", "Embedded",
        "-wmo", "-parse-as-library", "-Osize", "-swift-version", "5",
        "-Xfrontend", "-disable-stack-protector", "-Xfrontend", "-function-sections",
        // No FP/SIMD registers in generated code: they hold guest state (docs/architecture.md).
        // Strict alignment: code may run with the MMU off, where memory is Device.
        "-Xcc", "-mgeneral-regs-only", "-Xcc", "-mstrict-align",
        // No machine outliner: at -Osize it turns the exit path's epilogue into a call to a
        // shared stub (two instructions more per exit) depending on what else the image
        // holds; exit-path costs must not move when unrelated code is added.
        "-Xllvm", "-enable-machine-outliner=never",
        // swiftc keeps an existing object whose LLVM IR hash is unchanged ("incremental LLVM
        // codegen"), so a change of -Xllvm options alone would leave stale objects behind.
        "-Xfrontend", "-disable-incremental-llvm-codegen",
    ]
    static let cFlags = ["--target=aarch64-none-elf", "-mgeneral-regs-only", "-mstrict-align", "-ffreestanding",
                         "-fno-builtin", "-ffunction-sections", "-O2", "-Wall", "-Werror"]

    var objects: URL { layout.buildDirectory.appendingPathComponent("obj") }

    /// One bare-metal program: Embedded Swift sources (with the core) and C/assembly sources,
    /// linked with a script into an ELF. What the hypervisor and every test guest are made of.
    struct BareMetalProgram {
        var name: String
        var module: String
        var swiftSources: [URL]
        var cSources: [URL]
        var include: URL
        var linkerScript: URL
        /// Position independent (the hypervisor): compiled -fPIE, linked -pie with its
        /// R_AARCH64_RELATIVE relocations kept in .rela.dyn for entry.S to apply at boot.
        var positionIndependent = false
    }

    /// Compiler and linker flags beyond the common ones, for a position-independent program.
    /// (swiftc already generates PIC for ELF; -fPIE reaches the C of imported headers.)
    static let pieSwiftFlags = ["-Xcc", "-fPIE"]
    static let pieCFlags = ["-fPIE"]
    static let pieLinkFlags = ["-pie", "--no-dynamic-linker"]

    func build(_ p: BareMetalProgram, core: (object: URL, moduleDirectory: URL), elf: URL) throws {
        let dir = objects.appendingPathComponent(p.name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: elf.deletingLastPathComponent(), withIntermediateDirectories: true)
        let swiftObject = dir.appendingPathComponent(p.module + ".o")
        let pie = p.positionIndependent
        try swiftc((pie ? Self.pieSwiftFlags : []) + ["-module-name", p.module, "-I", core.moduleDirectory.path, "-I", p.include.path, "-c"]
                   + p.swiftSources.map(\.path) + ["-o", swiftObject.path])
        var objectFiles = [swiftObject, core.object]
        for source in p.cSources {
            let o = dir.appendingPathComponent(source.lastPathComponent + ".o")
            try clang(source, o, include: p.include, extraFlags: pie ? Self.pieCFlags : [])
            objectFiles.append(o)
        }
        try link(objectFiles, script: p.linkerScript, elf: elf, extraFlags: pie ? Self.pieLinkFlags : [])
        if pie { try RelocationCheck.check(elf: elf) }
    }

    /// The raw hypervisor Image for QEMU's -kernel (with its arm64 Image header).
    public func buildHypervisor() throws -> URL {
        let core = try buildCore()
        let out = layout.buildDirectory.appendingPathComponent("swiftvisor.bin")
        let program = BareMetalProgram(
            name: "hypervisor", module: "Hypervisor",
            swiftSources: try sources(in: layout.platform, ext: "swift") + sources(in: layout.hypervisor, ext: "swift"),
            cSources: try sources(in: layout.arch, ext: "S") + ["libc.c", "heap_shims.c", "context.c", "debug_registers.c", "pmu.c"].map { layout.arch.appendingPathComponent($0) },
            include: layout.arch.appendingPathComponent("include"),
            linkerScript: layout.arch.appendingPathComponent("link.ld"), positionIndependent: true)
        let inputs = program.swiftSources + program.cSources
            + [core.object, program.linkerScript, program.include.appendingPathComponent("arch.h")]
        let pieFlags = (Self.pieSwiftFlags + Self.pieCFlags + Self.pieLinkFlags).joined(separator: " ")
        try step("hypervisor image", inputs: inputs, output: out, extraStamp: "pie: \(pieFlags)\n") {
            let elf = objects.appendingPathComponent("hypervisor/swiftvisor.elf")
            try build(program, core: core, elf: elf)
            try Shell.run(toolchain.path("llvm-objcopy"), ["-O", "binary", elf.path, out.path])
        }
        return out
    }

    /// A built-in test guest (Guests/NAME) as an ELF executable, or nil if there is none.
    public func buildGuest(_ name: String) throws -> URL? {
        let source = layout.guestSource(name)
        guard name != "Kit", FileManager.default.fileExists(atPath: source.appendingPathComponent("main.swift").path) else { return nil }
        let core = try buildCore()
        let out = layout.buildDirectory.appendingPathComponent("guests/\(name).elf")
        let program = BareMetalProgram(
            name: "guest-\(name)", module: "Guest",
            swiftSources: try sources(in: layout.guestKit, ext: "swift") + sources(in: source, ext: "swift"),
            cSources: try sources(in: layout.guestKit, ext: "S") + sources(in: layout.guestKit, ext: "c")
                + [layout.arch.appendingPathComponent("libc.c")],
            include: layout.guestKit.appendingPathComponent("include"),
            linkerScript: layout.guestKit.appendingPathComponent("link.ld"))
        let inputs = program.swiftSources + program.cSources
            + [core.object, program.linkerScript, program.include.appendingPathComponent("guest.h")]
        try step("guest '\(name)'", inputs: inputs, output: out) { try build(program, core: core, elf: out) }
        return out
    }

    /// A small static AArch64 Linux program from Guests/LinuxTools (for Linux guests' initramfs).
    public func buildLinuxTool(_ name: String) throws -> URL {
        let source = layout.guests.appendingPathComponent("LinuxTools/\(name).c")
        let out = layout.buildDirectory.appendingPathComponent("linux-tools/\(name)")
        try step("Linux tool '\(name)'", inputs: [source], output: out) {
            try Shell.run(toolchain.path("clang"), ["--target=aarch64-linux-gnu", "-nostdlib", "-static", "-ffreestanding",
                                                    "-fno-builtin", "-O2", "-mgeneral-regs-only", "-fuse-ld=lld",
                                                    "-Wl,-e,_start", "-o", out.path, source.path])
        }
        return out
    }

    /// The portable core compiled for aarch64-none-none-elf, shared by the hypervisor and guests.
    public func buildCore() throws -> (object: URL, moduleDirectory: URL) {
        let dir = objects.appendingPathComponent("core")
        let object = dir.appendingPathComponent("SwiftvisorCore.o")
        let coreSources = try sources(in: layout.core, ext: "swift")
        try step("portable core for aarch64-none-none-elf", inputs: coreSources, output: object) {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try swiftc(["-module-name", "SwiftvisorCore", "-emit-module", "-emit-module-path",
                        dir.appendingPathComponent("SwiftvisorCore.swiftmodule").path, "-c"] + coreSources.map(\.path)
                       + ["-o", object.path])
        }
        return (object, dir)
    }

    // MARK: - Steps

    func swiftc(_ arguments: [String]) throws {
        try Shell.run(toolchain.path("swiftc"), Self.swiftFlags + arguments)
    }

    func clang(_ source: URL, _ object: URL, include: URL, extraFlags: [String] = []) throws {
        try Shell.run(toolchain.path("clang"), Self.cFlags + extraFlags + ["-I", include.path, "-c", source.path, "-o", object.path])
    }

    func link(_ objects: [URL], script: URL, elf: URL, extraFlags: [String] = []) throws {
        // No flag hides an undefined symbol: a missing one fails the build.
        try Shell.run(toolchain.path("ld.lld"), ["--gc-sections"] + extraFlags + ["-T", script.path, "-o", elf.path] + objects.map(\.path))
    }

    func sources(in dir: URL, ext: String) throws -> [URL] {
        var result: [URL] = []
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { return [] }
        for case let url as URL in e where url.pathExtension == ext { result.append(url) }
        return result.sorted { $0.path < $1.path }
    }

    /// Runs `body` unless `output` exists and the inputs' stamp matches the one recorded.
    func step(_ what: String, inputs: [URL], output: URL, extraStamp: String = "", _ body: () throws -> Void) throws {
        let stampFile = URL(fileURLWithPath: output.path + ".stamp")
        let stamp = Self.stamp(inputs) + "flags: \((Self.swiftFlags + Self.cFlags).joined(separator: " "))\n" + extraStamp
        if FileManager.default.fileExists(atPath: output.path),
           let old = try? String(contentsOf: stampFile, encoding: .utf8), old == stamp { return }
        log("building \(what)")
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        try body()
        try stamp.write(to: stampFile, atomically: true, encoding: .utf8)
    }

    static func stamp(_ inputs: [URL]) -> String {
        inputs.map { url -> String in
            let a = try? FileManager.default.attributesOfItem(atPath: url.path)
            let size = (a?[.size] as? NSNumber)?.int64Value ?? -1
            let time = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(url.path) \(size) \(time)\n"
        }.joined()
    }
}
