import Foundation
import XCTest
@testable import SwiftvisorHost

/// What `swiftvisor bench` prints: the "Measured on" block, the table beside the references,
/// the JSON for scripts, and the parsing of what it reads from the host, QEMU and the banner.
final class BenchReportTests: XCTestCase {
    let environment = BenchEnvironment(
        swiftvisor: "0.7.0", commit: "9b8aa55",
        host: .init(cpu: "AMD EPYC", cores: 2, os: "Debian GNU/Linux 12 (bookworm)"),
        qemu: .init(version: "7.2.22", package: "Debian 1:7.2+dfsg-7+deb12u18+b3",
                    machine: "virt,virtualization=on,gic-version=3", cpu: "cortex-a57", icount: "shift=0,sleep=off"),
        el2: .init(mode: "nVHE", cpuHasVHE: false))

    var report: BenchReport {
        BenchReport(environment: environment, runs: [
            .init(cores: 1, figures: [.init(name: "world_switch_between_guests", value: 1528),
                                      .init(name: "hypercall_xen_version", value: 105),
                                      .init(name: "mmio_pl011_fr_read", value: 465),
                                      .init(name: "virtual_eoi", value: 0)], lines: []),
            .init(cores: 2, figures: [.init(name: "virtual_ipi_round_trip_two_cores", value: 12492)], lines: []),
        ])
    }

    func test_the_text_report_says_what_it_measured_on_then_a_table_beside_the_references() {
        let text = report.text
        XCTAssertEqual(Array(text.prefix(8)), [
            "swiftvisor bench: guest instructions per round trip, the guest's and the hypervisor's together (fewer is better)",
            "",
            "Measured on",
            "  host        AMD EPYC, 2 cores, Debian GNU/Linux 12 (bookworm)",
            "  QEMU        7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3): -M virt,virtualization=on,gic-version=3 -cpu cortex-a57 -icount shift=0,sleep=off",
            "  EL2 mode    nVHE (the CPU has no VHE)",
            "  version     swiftvisor 0.7.0 (commit 9b8aa55)",
            "",
        ])
        XCTAssertEqual(Array(text.dropFirst(8).prefix(6)), [
            "figure                            cores  swiftvisor    Xen 4.17   KVM 6.1 VHE  KVM 6.1 nVHE",
            "world_switch_between_guests           1        1528           -             -             -",
            "hypercall_xen_version                 1         105  417 (4.0x)  1408 (13.4x)  1907 (18.2x)",
            "mmio_pl011_fr_read                    1         465  622 (1.3x)  5097 (11.0x)  5258 (11.3x)",
            "virtual_eoi                           1           0           -             -             -",
            "virtual_ipi_round_trip_two_cores      2       12492           -             -             -",
        ])
        XCTAssertTrue(text.joined(separator: "\n").contains("docs/performance.md"))
    }

    func test_the_json_report_has_the_environment_and_each_figure_with_its_references_and_ratio() throws {
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["unit", "references_from", "environment", "figures"])
        XCTAssertEqual(object["references_from"] as? String, "docs/performance.md")

        let env = try XCTUnwrap(object["environment"] as? [String: Any])
        XCTAssertEqual(env["swiftvisor"] as? String, "0.7.0")
        XCTAssertEqual(env["commit"] as? String, "9b8aa55")
        XCTAssertEqual((env["host"] as? [String: Any])?["cpu"] as? String, "AMD EPYC")
        XCTAssertEqual((env["host"] as? [String: Any])?["cores"] as? Int, 2)
        let qemu = try XCTUnwrap(env["qemu"] as? [String: Any])
        XCTAssertEqual(qemu["version"] as? String, "7.2.22")
        XCTAssertEqual(qemu["cpu"] as? String, "cortex-a57")
        XCTAssertEqual(qemu["machine"] as? String, "virt,virtualization=on,gic-version=3")
        let el2 = try XCTUnwrap(env["el2"] as? [String: Any])
        XCTAssertEqual(el2["mode"] as? String, "nVHE")
        XCTAssertEqual(el2["cpu_has_vhe"] as? Bool, false)

        let figures = try XCTUnwrap(object["figures"] as? [String: [String: Any]])
        XCTAssertEqual(Set(figures.keys), ["world_switch_between_guests", "hypercall_xen_version", "mmio_pl011_fr_read",
                                           "virtual_eoi", "virtual_ipi_round_trip_two_cores"])
        let hypercall = try XCTUnwrap(figures["hypercall_xen_version"])
        XCTAssertEqual(hypercall["instructions"] as? Int, 105)
        XCTAssertEqual(hypercall["cores"] as? Int, 1)
        let xen = try XCTUnwrap((hypercall["references"] as? [String: [String: Any]])?["xen_4_17"])
        XCTAssertEqual(xen["instructions"] as? Int, 417)
        XCTAssertEqual(xen["ratio"] as? Double, 3.97)
        XCTAssertEqual((hypercall["references"] as? [String: Any])?.keys.sorted(), ["kvm_6_1_nvhe", "kvm_6_1_vhe", "xen_4_17"])
        XCTAssertEqual(figures["virtual_ipi_round_trip_two_cores"]?["cores"] as? Int, 2)
        XCTAssertEqual((figures["world_switch_between_guests"]?["references"] as? [String: Any])?.count, 0)
    }

    func test_the_linux_report_gives_both_boots_the_ratio_and_what_xen_adds() throws {
        let linux = LinuxBootReport(environment: environment, cores: 2,
                                    direct: .init(instructions: 885_039_024, seconds: 1.9),
                                    guest: .init(instructions: 1_006_919_968, seconds: 2.5))
        XCTAssertTrue(linux.text.contains("  boots       -smp 2, 256 MiB; the guest has 2 vCPUs; the direct boot has virtualization=off"))
        XCTAssertEqual(Array(linux.text.suffix(7)), [
            "boot to /init                           instructions  wall time",
            "directly on QEMU virt (no hypervisor)    885,039,024      1.9 s",
            "as a swiftvisor guest                  1,006,919,968      2.5 s",
            "ratio                                          1.138       1.32",
            "",
            "Instruction counts repeat from run to run; wall time is noisy.",
            "swiftvisor adds 121,880,944 instructions; Xen 4.17 adds about 190,000,000 (docs/performance.md).",
        ])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(linux.json.utf8)) as? [String: Any])
        XCTAssertEqual((object["direct"] as? [String: Any])?["instructions"] as? Int, 885_039_024)
        XCTAssertEqual((object["swiftvisor"] as? [String: Any])?["instructions"] as? Int, 1_006_919_968)
        XCTAssertEqual(object["ratio"] as? Double, 1.138)
        XCTAssertEqual(object["added_instructions"] as? Int, 121_880_944)
        XCTAssertEqual(object["cores"] as? Int, 2)
        XCTAssertNotNil(object["environment"] as? [String: Any])
    }

    func test_the_environment_is_read_from_cpuinfo_os_release_qemu_and_the_banner() {
        XCTAssertEqual(BenchEnvironment.parseCPUModel("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"), "AMD EPYC 7B13")
        XCTAssertEqual(BenchEnvironment.parseCPUModel("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n"), "Arm CPU part 0xd0c")
        XCTAssertEqual(BenchEnvironment.parseOSName("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
                       "Debian GNU/Linux 12 (bookworm)")
        let qemu = BenchEnvironment.parseQEMUVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022")
        XCTAssertEqual(qemu.version, "7.2.22")
        XCTAssertEqual(qemu.package, "Debian 1:7.2+dfsg-7+deb12u18+b3")
        XCTAssertEqual(BenchEnvironment.parseQEMUVersion("QEMU emulator version 10.0.2\n").package, nil)

        let a57 = "swiftvisor: CPU MIDR 0x411fd070, VHE not present (nVHE mode, E2H=0), PA 44 bits, IPA 40 bits"
        let max = "swiftvisor: CPU MIDR 0x000f0510, VHE present, not used (nVHE mode, E2H=0, as Xen), PA 48 bits, IPA 40 bits"
        let vhe = "swiftvisor: CPU MIDR 0xf0510, VHE present, used (VHE mode, E2H=1, as asked by swiftvisor.vhe=1), PA 52 bits, IPA 39 bits"
        XCTAssertEqual(BenchEnvironment.parseEL2(["noise", a57]), .init(mode: "nVHE", cpuHasVHE: false))
        XCTAssertEqual(BenchEnvironment.parseEL2([max])?.summary, "nVHE (the CPU has VHE, not used)")
        XCTAssertEqual(BenchEnvironment.parseEL2([vhe])?.summary, "VHE")
        XCTAssertNil(BenchEnvironment.parseEL2(["bench | hypercall_xen_version: 105 instructions"]))
    }

    func test_a_text_table_pads_each_column_to_its_widest_cell() {
        var table = TextTable([.init("name"), .init("count", .right), .init("note")])
        table.add(["a", "1", ""])
        table.add(["longer", "12345", "x"])
        XCTAssertEqual(table.render(), ["name    count  note", "a           1", "longer  12345  x"])
    }
}
