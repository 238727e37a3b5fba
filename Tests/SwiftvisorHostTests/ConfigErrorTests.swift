import Foundation
import XCTest
@testable import SwiftvisorHost
import SwiftvisorCore

/// Issue 7 §3: the configuration errors users actually make, each reported as
/// `FILE:LINE: 'key': reason in words`, with LINE the key's own line.
final class ConfigErrorTests: XCTestCase {
    var dir: URL!
    var file: URL { dir.appendingPathComponent("system.toml") }
    var path: String { file.path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvisor-config-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(tinyELF(machine: 183)).write(to: dir.appendingPathComponent("kernel.elf"))
        try Data(tinyELF(machine: 62)).write(to: dir.appendingPathComponent("x86.elf"))
        try Data(repeating: 0, count: 10).write(to: dir.appendingPathComponent("tiny.bin"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ toml: String) -> Result<LoadedSystem, [ConfigError]> {
        try! Data(toml.utf8).write(to: file)
        do { return .success(try ConfigLoader.load(file) { _ in nil }) } catch let e as [ConfigError] { return .failure(e) } catch {
            XCTFail("unexpected \(error)"); return .failure([])
        }
    }

    func errors(_ toml: String) -> [String] {
        if case .failure(let e) = load(toml) { return e.map(\.description) }
        return []
    }

    /// A guest with the three required keys on lines 2-4, then `extra` from line 5 on.
    func guest(_ extra: String = "", name: String = "a", memory: Int = 16) -> String {
        "[[guest]]\nname = \"\(name)\"\nkernel = \"kernel.elf\"\nmemory = \(memory)\n" + extra
    }

    // MARK: line ends

    func test_crlf_line_ends_are_read_like_lf() throws {
        let r = try load(guest("vcpus = 2\n").replacingOccurrences(of: "\n", with: "\r\n")).get()
        XCTAssertEqual(r.description.guests.map(\.name), ["a"])
        XCTAssertEqual(r.description.guests[0].vcpus, 2)
        XCTAssertEqual(errors(guest("memroy = 3\n").replacingOccurrences(of: "\n", with: "\r\n")),
                       ["\(path):5: 'memroy': unknown key; a [[guest]] takes name, kernel, memory, vcpus, cmdline, ramdisk, cpus, iomem, irqs, autostart, uuid, layout, enhanced, vif, disk, weight, cap"])
    }

    func test_a_utf8_byte_order_mark_is_ignored() throws {
        let r = try load("\u{FEFF}" + guest().replacingOccurrences(of: "\n", with: "\r\n")).get()
        XCTAssertEqual(r.description.guests.map(\.name), ["a"])
    }

    // MARK: the key's own line

    func test_range_errors_point_at_the_keys_line() {
        XCTAssertEqual(errors(guest("cpus = [9]\n")), ["\(path):5: 'cpus': core 9 is outside 0...7: swiftvisor runs on at most 8 cores"])
        XCTAssertEqual(errors(guest(memory: 2)),
                       ["\(path):4: 'memory': 2 MiB is too little: a guest needs at least 4 MiB (its kernel and its 2 MiB device tree)"])
        XCTAssertEqual(errors(guest(memory: 16385)),
                       ["\(path):4: 'memory': 16385 MiB is too much: a guest can have at most 16384 MiB (the test guests map RAM up to 17 GiB, and preparing 16 GiB under emulation already takes about a minute)"])
        XCTAssertEqual(errors(guest("\nvcpus = 9\n")),
                       ["\(path):6: 'vcpus': 9 is not a vCPU count swiftvisor can give: a guest has 1 to 8 vCPUs"])
        XCTAssertEqual(errors(guest("irqs = [7]\n")), ["\(path):5: 'irqs': 7 is not an SPI a guest can have (INTIDs 32...63)"])
        XCTAssertEqual(errors(guest("iomem = [\"0x40000,1\"]\n")),
                       ["\(path):5: 'iomem': 0x40000,1 overlaps guest RAM; only devices swiftvisor does not use may be passed through"])
    }

    func test_file_errors_point_at_the_keys_line() {
        XCTAssertEqual(errors("[[guest]]\nname = \"a\"\nmemory = 16\nkernel = \"nope.elf\"\n"),
                       ["\(path):4: 'kernel': guest 'a': no readable file at \(dir.appendingPathComponent("nope.elf").path)"])
        XCTAssertEqual(errors(guest("ramdisk = \"initrd.img\"\n")),
                       ["\(path):5: 'ramdisk': guest 'a': no readable file at \(dir.appendingPathComponent("initrd.img").path)"])
    }

    func test_a_ramdisk_that_does_not_fit_is_refused() throws {
        try Data(repeating: 1, count: 20 << 20).write(to: dir.appendingPathComponent("initrd.img"))
        XCTAssertEqual(errors(guest("ramdisk = \"initrd.img\"\n")),
                       ["\(path):5: 'ramdisk': guest 'a': initrd.img (20 MiB) does not fit between the kernel and the device tree in 16 MiB of guest RAM; memory must be at least 23"])
        XCTAssertEqual(errors(guest("ramdisk = \"initrd.img\"\n", memory: 23)), [])
    }

    func test_duplicates_point_at_the_second_guests_key() {
        let toml = guest("irqs = [40]\n") + "[[guest]]\n\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = 16\nirqs = [40]\n"
        XCTAssertEqual(errors(toml), ["\(path):8: 'name': 'a' names two guests; names must be unique",
                                      "\(path):11: 'irqs': interrupt 40 is given to two guests"])
    }

    func test_uuid_is_checked_on_its_line_and_must_be_unique() throws {
        XCTAssertEqual(errors(guest("uuid = \"not-a-uuid\"\n")),
                       ["\(path):5: 'uuid': 'not-a-uuid' is not a UUID: write 32 hexadecimal digits as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"])
        XCTAssertEqual(errors(guest("uuid = \"6b2a9d3c-1f2e-4d5c-8a7b-0c1d2e3f4a5g\"\n")).count, 1)
        XCTAssertEqual(errors(guest("uuid = 7\n")), ["\(path):5: 'uuid': must be a string \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\", not an integer"])
        let u = "6B2A9D3C-1F2E-4D5C-8A7B-0C1D2E3F4A5B"
        let loaded = try load(guest("uuid = \"\(u)\"\n")).get()
        XCTAssertEqual(loaded.description.guests[0].uuid?.text, u.lowercased())
        let twice = guest("uuid = \"\(u)\"\n") + "[[guest]]\nname = \"b\"\nkernel = \"kernel.elf\"\nmemory = 16\nuuid = \"\(u.lowercased())\"\n"
        XCTAssertEqual(errors(twice), ["\(path):10: 'uuid': 6b2a9d3c-1f2e-4d5c-8a7b-0c1d2e3f4a5b is also the uuid of guest 'a'; every guest needs its own"])
    }

    func test_layout_is_virt_or_xen_checked_on_its_line() throws {
        XCTAssertEqual(try load(guest()).get().description.guests[0].layout, .virt)
        XCTAssertEqual(try load(guest("layout = \"xen\"\n")).get().description.guests[0].layout, .xen)
        XCTAssertEqual(errors(guest("layout = \"qemu\"\n")),
                       ["\(path):5: 'layout': 'qemu' is not a layout: write \"virt\" (QEMU virt's machine, the default) or \"xen\" (the machine Xen 4.17 gives an arm64 domU)"])
        XCTAssertEqual(errors(guest("layout = 1\n")), ["\(path):5: 'layout': must be a string, \"virt\" or \"xen\", not an integer"])
    }

    func test_xen_layout_has_room_for_guest_ram0_only() {
        XCTAssertEqual(errors(guest("layout = \"xen\"\n", memory: 3072)), [])
        XCTAssertEqual(errors(guest("layout = \"xen\"\n", memory: 3074)),
                       ["\(path):4: 'memory': 3074 MiB is too much for layout = \"xen\": its RAM is Xen's GUEST_RAM0 (at most 3072 MiB at 0x40000000; swiftvisor does not add Xen's second bank); lower memory to 3072 or use layout = \"virt\""])
    }

    func test_iomem_may_not_overlap_the_xen_layouts_devices() {
        XCTAssertEqual(errors(guest("layout = \"xen\"\niomem = [\"0x22000,1\"]\n")),
                       ["\(path):6: 'iomem': 0x22000,1 overlaps the UART; only devices swiftvisor does not use may be passed through"])
        XCTAssertEqual(errors(guest("layout = \"xen\"\niomem = [\"0x3100,1\"]\n")),
                       ["\(path):6: 'iomem': 0x3100,1 overlaps the GIC; only devices swiftvisor does not use may be passed through"])
        // The virt layout's UART and GIC are free in the xen layout, and Xen's windows in both.
        XCTAssertEqual(errors(guest("layout = \"xen\"\niomem = [\"0x9000,1\"]\n")), [])
        XCTAssertEqual(errors(guest("iomem = [\"0x38000,1\"]\n")),
                       ["\(path):5: 'iomem': 0x38000,1 overlaps Xen's grant-table window; only devices swiftvisor does not use may be passed through"])
    }

    // MARK: reasons in words

    func test_kernel_format_errors_are_in_words() {
        XCTAssertEqual(errors("[[guest]]\nname = \"a\"\nkernel = \"x86.elf\"\nmemory = 16\n"),
                       ["\(path):3: 'kernel': guest 'a': x86.elf is an ELF file for x86-64 (machine 62), not AArch64 (machine 183); a kernel must be an AArch64 ELF executable or an arm64 Linux Image"])
        XCTAssertEqual(errors("[[guest]]\nname = \"a\"\nkernel = \"tiny.bin\"\nmemory = 16\n"),
                       ["\(path):3: 'kernel': guest 'a': tiny.bin is shorter than 64 bytes, too short for an ELF or arm64 Image header; a kernel must be an AArch64 ELF executable or an arm64 Linux Image"])
    }

    func test_no_swift_names_in_any_kernel_message() {
        let cases: [KernelImage.ParseError] = [.tooSmall, .notAArch64ELF(machine: 62), .notAArch64ELF(machine: 9999), .notELF64,
                                               .notLittleEndian, .notExecutable, .noLoadableSegments, .segmentBeyondFile, .unrecognisedFormat]
        for c in cases {
            XCTAssertFalse(c.reason.contains("(machine:") || c.reason.contains("tooSmall") || c.reason.contains("notAArch64"), c.reason)
        }
        XCTAssertEqual(KernelImage.ParseError.notAArch64ELF(machine: 9999).reason,
                       "is an ELF file for another architecture (machine 9999), not AArch64 (machine 183)")
        XCTAssertEqual(KernelImage.PlacementError.outsideRAM(ipa: 0x4008_0000, size: 0x1000).reason,
                       "it needs 0x40080000...0x40081000, outside the guest's RAM")
    }

    // MARK: no follow-on errors

    func test_a_key_error_is_not_followed_by_false_errors() {
        XCTAssertEqual(errors("[[guest]]\nname = 3\nkernel = \"kernel.elf\"\nmemory = 16\n"),
                       ["\(path):2: 'name': must be a string, not an integer"])
        XCTAssertEqual(errors("[[guest]]\nname = \"a\"\nkernel = \"kernel.elf\"\nmemory = \"16\"\n"),
                       ["\(path):4: 'memory': must be an integer (MiB), not a string"])
        XCTAssertEqual(errors("[[guest]]\nname = \"a\"\nmemory = 16\n"),
                       ["\(path):1: 'kernel': missing in this [[guest]]"])
        XCTAssertEqual(errors("# nothing\n"), ["\(path): no [[guest]] tables: describe at least one guest"])
    }

    // MARK: the same checks for check and run

    func test_machine_checks_name_the_key() throws {
        let system = try load(guest("cpus = [0, 1]\n")).get()
        let (oneCore, _) = try SystemRunner.machineProblems(system, cores: 1, host: nil)
        XCTAssertEqual(oneCore.map(\.description),
                       ["\(path):5: 'cpus': guest 'a' names core 1, but the machine has 1 core(s) (--cores)"])
        let (twoCores, boot) = try SystemRunner.machineProblems(system, cores: 2, host: nil)
        XCTAssertEqual(twoCores, [])
        XCTAssertEqual(boot?.machineRAMMiB, 512)
    }

    // MARK: memory the machine or the host cannot give

    func test_memory_the_host_cannot_give_is_refused() throws {
        let system = try load(guest(memory: 2048)).get()
        let host = HostMemory(availableMiB: 1500, totalMiB: 4000)
        let (e, boot) = try SystemRunner.machineProblems(system, cores: 2, host: host)
        XCTAssertNil(boot)
        XCTAssertEqual(e.map(\.description), ["\(path):4: 'memory': QEMU would need 2816 MiB of host memory (machine RAM 2560 MiB: 2048 MiB of guest RAM, 261 MiB for the hypervisor image and the kernels and ramdisks, 64 MiB for the hypervisor's tables; and 256 MiB for QEMU itself), but this host has only 1500 MiB available (MemAvailable; MemTotal 4000 MiB); lower memory"])
        XCTAssertEqual(try SystemRunner.machineProblems(system, cores: 2, host: HostMemory(availableMiB: 2816, totalMiB: 4000)).0, [])
    }

    func test_machine_ram_beyond_what_swiftvisor_gives_qemu_is_refused() throws {
        // A sparse 5 GiB ramdisk next to a 16 GiB guest: fits the guest, not the machine.
        let ramdisk = dir.appendingPathComponent("big.img")
        FileManager.default.createFile(atPath: ramdisk.path, contents: nil)
        let handle = try FileHandle(forWritingTo: ramdisk)
        try handle.truncate(atOffset: 5 << 30)
        try handle.close()
        let system = try load(guest("ramdisk = \"big.img\"\n", memory: 16384)).get()
        let (e, _) = try SystemRunner.machineProblems(system, cores: 2, host: nil)
        XCTAssertEqual(e.map(\.description), ["\(path):4: 'memory': the machine would need 22016 MiB of RAM (16384 MiB of guest RAM, 5381 MiB for the hypervisor image and the kernels and ramdisks, 64 MiB for the hypervisor's tables), but swiftvisor gives QEMU virt at most 20480 MiB"])
    }

    func test_host_memory_is_read_from_meminfo() {
        let text = "MemTotal:       24683520 kB\nMemFree:        22366724 kB\nMemAvailable:   23835012 kB\nBuffers: 1 kB\n"
        XCTAssertEqual(HostMemory.parse(meminfo: text), HostMemory(availableMiB: 23276, totalMiB: 24105))
        XCTAssertNil(HostMemory.parse(meminfo: "MemTotal: 1 kB\n"))
    }

    // MARK: every limit of the hypervisor

    func test_at_most_64_guests() {
        func guests(_ n: Int) -> String { (1...n).map { "[[guest]]\nname = \"g\($0)\"\nkernel = \"kernel.elf\"\nmemory = 4\n" }.joined() }
        XCTAssertEqual(errors(guests(64)), [])
        XCTAssertEqual(errors(guests(65)), ["\(path):258: 'name': 'g65' is guest number 65, but at most 64 guests can run: the hypervisor's boot manifest has room for 64"])
    }

    func test_manifest_field_limits() {
        let long = String(repeating: "n", count: 64)
        XCTAssertEqual(errors(guest(name: long)),
                       ["\(path):2: 'name': must be 1 to 63 bytes long (it is 64): the boot manifest has room for 63"])
        XCTAssertEqual(errors(guest("cmdline = \"\(String(repeating: "x", count: 792))\"\n")),
                       ["\(path):5: 'cmdline': 792 bytes long, but at most 791 fit in the boot manifest"])
        XCTAssertEqual(errors(guest("cmdline = \"\(String(repeating: "x", count: 791))\"\n")), [])
        XCTAssertEqual(errors(guest("iomem = [\"0x9100,1\", \"0x9101,1\", \"0x9102,1\", \"0x9103,1\", \"0x9104,1\"]\n")),
                       ["\(path):5: 'iomem': 5 ranges, but a guest can have at most 4 (the boot manifest has room for 4)"])
        XCTAssertEqual(errors(guest("irqs = [40, 41, 42, 43, 44, 45, 46, 47, 48]\n")),
                       ["\(path):5: 'irqs': 9 interrupts, but a guest can have at most 8 (the boot manifest has room for 8)"])
    }

    func test_total_memory_points_at_the_largest_guest() {
        let toml = guest(memory: 9000) + "[[guest]]\nname = \"b\"\nkernel = \"kernel.elf\"\nmemory = 9001\n"
        XCTAssertEqual(errors(toml), ["\(path):8: 'memory': the guests need 18001 MiB together, but at most 16384 MiB fit (the test guests map RAM up to 17 GiB, and preparing 16 GiB under emulation already takes about a minute); lower memory here or in another guest"])
    }

    func test_limits_match_the_boot_manifest() {
        XCTAssertEqual(BootManifest.maxCommandLineLength, Limits.commandLineLength)
        XCTAssertEqual(Limits.commandLineLength, 791)   // 1024-byte entries, the command line from byte 232
        // The manifest parser refuses what the checker refuses.
        let guests = (0...Limits.guests).map { i in
            BootManifest.Guest(name: "g\(i)", kernel: .init(base: HostPhysicalAddress(0x5000_0000), size: 64), memoryBytes: 4 << 20,
                               vcpus: 1, commandLine: "")
        }
        let bytes = BootManifest(guests: guests).encoded
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try BootManifest(bytes: $0) }) { error in
            XCTAssertEqual(error as? BootManifest.ParseError, .tooManyGuests(count: Limits.guests + 1))
        }
        XCTAssertNoThrow(try BootManifest(guests: Array(guests.dropLast())).encoded.withUnsafeBytes { try BootManifest(bytes: $0) })
    }

    // MARK: autostart

    func test_autostart_defaults_to_true_and_takes_a_boolean() throws {
        XCTAssertEqual(try load(guest()).get().description.guests[0].autostart, true)
        XCTAssertEqual(try load(guest("autostart = false\n")).get().description.guests[0].autostart, false)
        XCTAssertEqual(errors(guest("autostart = \"no\"\n")), ["\(path):5: 'autostart': must be true or false, not a string"])
    }
}
