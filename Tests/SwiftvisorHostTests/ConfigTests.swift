import Foundation
import XCTest
@testable import SwiftvisorHost
import SwiftvisorCore

final class ConfigTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // A tiny AArch64 ELF kernel and an x86-64 one.
        try Data(elf(machine: 183)).write(to: dir.appendingPathComponent("kernel.elf"))
        try Data(elf(machine: 62)).write(to: dir.appendingPathComponent("x86.elf"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func elf(machine: UInt16) -> [UInt8] { tinyELF(machine: machine) }

    func load(_ toml: String) -> Result<LoadedSystem, [ConfigError]> {
        let file = dir.appendingPathComponent("system.toml")
        try! toml.write(to: file, atomically: true, encoding: .utf8)
        do { return .success(try ConfigLoader.load(file) { _ in nil }) } catch let e as [ConfigError] { return .failure(e) } catch {
            XCTFail("unexpected \(error)"); return .failure([])
        }
    }

    func errors(_ toml: String) -> [String] {
        if case .failure(let e) = load(toml) { return e.map(\.description) }
        return []
    }

    func test_a_valid_description_loads() throws {
        let r = try load("""
        # comment
        [[guest]]
        name = "a"
        kernel = "kernel.elf"
        memory = 16
        vcpus = 2
        cmdline = 'quoted "text"'
        """).get()
        var expected = SystemDescription.Guest(name: "a", kernel: "kernel.elf", memoryMiB: 16, vcpus: 2,
                                               commandLine: "quoted \"text\"", line: 2)
        expected.lines[.name] = 3; expected.lines[.kernel] = 4; expected.lines[.memory] = 5
        expected.lines[.vcpus] = 6; expected.lines[.cmdline] = 7
        XCTAssertEqual(r.description.guests, [expected])
        XCTAssertEqual(r.description.guests[0].lines[.ramdisk], 2, "a key not written reports its table's line")
        XCTAssertEqual(r.kernels[0].lastPathComponent, "kernel.elf")
    }

    func test_unknown_key_is_named_with_its_line() {
        let e = errors("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\nmemroy = 3\n")
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].hasSuffix("system.toml:5: 'memroy': unknown key; a [[guest]] takes name, kernel, memory, vcpus, cmdline, ramdisk, cpus, iomem, irqs, autostart, uuid, layout, enhanced, vif, disk, weight, cap"), e[0])
    }

    func test_wrong_type() {
        let e = errors("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = \"16\"\n")
        XCTAssertTrue(e.contains { $0.hasSuffix(":4: 'memory': must be an integer (MiB), not a string") }, "\(e)")
    }

    func test_missing_keys_and_files() {
        let e = errors("[[guest]]\nname = \"a\"\nmemory = 16\n[[guest]]\nname = \"b\"\nkernel = \"nope.elf\"\nmemory = 16\n")
        XCTAssertTrue(e.contains { $0.hasSuffix(":1: 'kernel': missing in this [[guest]]") }, "\(e)")
        XCTAssertTrue(e.contains { $0.contains(":6: 'kernel': guest 'b': no readable file at") }, "\(e)")
    }

    func test_not_an_aarch64_kernel() {
        let e = errors("[[guest]]\nname = \"a\"\nkernel = \"x86.elf\"\nmemory = 16\n")
        XCTAssertTrue(e.first?.contains("x86.elf is an ELF file for x86-64 (machine 62), not AArch64") ?? false, "\(e)")
    }

    func test_memory_that_does_not_fit() {
        let e = errors("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 2\n")
        XCTAssertTrue(e.contains { $0.contains("'memory': 2 MiB is too little") }, "\(e)")
        let total = errors("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 9000\n[[guest]]\nname = \"b\"\nkernel = \"kernel.elf\"\nmemory = 9000\n")
        XCTAssertTrue(total.contains { $0.contains("the guests need 18000 MiB together") }, "\(total)")
    }

    func test_duplicate_names() {
        let e = errors("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\n[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\n")
        XCTAssertTrue(e.contains { $0.hasSuffix(":6: 'name': 'a' names two guests; names must be unique") }, "\(e)")
    }

    func test_syntax_errors_name_the_line() {
        XCTAssertTrue(errors("[[guest]]\nname = a\n").first?.hasSuffix(":2: 'a' is not a value (strings need quotes)") ?? false)
        XCTAssertTrue(errors("[[guest]\n").first?.hasSuffix(":1: expected ']]'") ?? false)
        XCTAssertTrue(errors("[[guest]]\nname = \"x\nkernel = 1\n").first?.hasSuffix(":2: unterminated string") ?? false)
        XCTAssertTrue(errors("[other]\n").first?.contains("unknown table [other]") ?? false)
        XCTAssertTrue(errors("name = \"x\"\n").first?.contains("top-level keys are not known") ?? false)
    }

    func test_cpus_affinity() throws {
        let r = try load("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\ncpus = [0, 1]\n").get()
        XCTAssertEqual(r.description.guests[0].affinity, 0b11)
        XCTAssertEqual(r.description.problems(cores: 2), [])
        XCTAssertEqual(r.description.problems(cores: 1).map(\.message), ["guest 'a' names core 1, but the machine has 1 core(s) (--cores)"])
        let e = errors("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\ncpus = [\"x\"]\n")
        XCTAssertTrue(e.contains { $0.hasSuffix(":5: 'cpus': must be an array of core numbers, not an array") }, "\(e)")
        let range = errors("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\ncpus = [9]\n")
        XCTAssertTrue(range.contains { $0.contains(":5: 'cpus': core 9 is outside 0...7") }, "\(range)")
    }

    func test_empty_description() {
        XCTAssertTrue(errors("# nothing\n").first?.contains("no [[guest]] tables") ?? false)
    }

    func test_console_report_reads_the_hypervisor_lines() {
        let r = ConsoleReport(lines: [
            "alpha | hello",
            "swiftvisor: guest 'alpha' shut down: poweroff (exit code 0); vCPUs ran on cores 0:{0,1} 1:{1}",
            "swiftvisor: guest 'beta' shut down: crash (exit code 3)",
            "swiftvisor: guest 'gamma' stopped: access outside its memory (vCPU 0, EC 0x24, PC 0x40080000)",
            "swiftvisor: all guests have finished",
            "gamma | [    0.86] Kernel panic - not syncing: VFS: Unable to mount root fs",
        ])
        XCTAssertEqual(r.kernelPanics["gamma"], "Kernel panic - not syncing: VFS: Unable to mount root fs")
        XCTAssertEqual(r.guestLines["alpha"], ["hello"])
        XCTAssertTrue(r.succeeded("alpha"))
        XCTAssertEqual(r.vcpuCores["alpha"], [[0, 1], [1]])
        XCTAssertEqual(r.outcomes["beta"], .shutDown(reason: "crash", exitCode: 3))
        XCTAssertFalse(r.succeeded("beta"))
        XCTAssertEqual(r.outcomes["gamma"], .stopped(cause: "access outside its memory (vCPU 0, EC 0x24, PC 0x40080000)"))
        XCTAssertTrue(r.allFinished)
        XCTAssertNil(r.panic)
    }

    func test_benchmark_lines() {
        XCTAssertEqual(Benchmark.parse(["hypercall: 312 instructions", "noise", "psci: x instructions"]),
                       [.init(name: "hypercall", value: 312)])
    }
}

/// A minimal ELF64 executable for `machine` with one 4 KiB PT_LOAD segment at 0x40080000.
func tinyELF(machine: UInt16) -> [UInt8] {
    var b: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
    func le(_ v: UInt64, _ n: Int) { for i in 0..<n { b.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) } }
    le(2, 2); le(UInt64(machine), 2); le(1, 4); le(0x4008_0000, 8); le(64, 8); le(0, 8)
    le(0, 4); le(64, 2); le(56, 2); le(1, 2); le(0, 2); le(0, 2); le(0, 2)
    le(1, 4); le(5, 4); le(0, 8); le(0x4008_0000, 8); le(0x4008_0000, 8); le(120, 8); le(0x1000, 8); le(0x1000, 8)
    return b
}
