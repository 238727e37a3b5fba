import XCTest
@testable import SwiftvisorCore

final class DeviceTreeTests: XCTestCase {
    /// A host tree shaped like QEMU virt's.
    func hostTree() -> [UInt8] {
        var b = DeviceTreeBuilder()
        b.beginNode("")
        b.property("#address-cells", cells: [2]); b.property("#size-cells", cells: [2])
        b.beginNode("chosen")
        b.property("bootargs", string: "swiftvisor.manifest=0x50000000 quiet")
        b.property("stdout-path", string: "/pl011@9000000")
        b.endNode()
        b.beginNode("memory@40000000"); b.property("device_type", string: "memory")
        b.property("reg", u64Pairs: [0x4000_0000, 0x4000_0000]); b.endNode()
        b.beginNode("pl011@9000000"); b.property("compatible", strings: ["arm,pl011", "arm,primecell"])
        b.property("reg", u64Pairs: [0x0900_0000, 0x1000]); b.endNode()
        b.beginNode("intc@8000000"); b.property("compatible", string: "arm,gic-v3")
        b.property("reg", u64Pairs: [0x0800_0000, 0x1_0000, 0x080A_0000, 0xF6_0000]); b.endNode()
        b.beginNode("timer"); b.property("compatible", strings: ["arm,armv8-timer"])
        b.property("interrupts", cells: [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]); b.endNode()
        b.beginNode("psci"); b.property("compatible", strings: ["arm,psci-1.0", "arm,psci-0.2"])
        b.property("method", string: "smc"); b.endNode()
        b.beginNode("cpus"); b.property("#address-cells", cells: [1]); b.property("#size-cells", cells: [0])
        for n in 0..<2 {
            b.beginNode("cpu@\(n)"); b.property("device_type", string: "cpu"); b.property("reg", cells: [UInt32(n)]); b.endNode()
        }
        b.endNode()
        b.endNode()
        return b.finish()
    }

    func test_host_platform_is_read_from_the_tree() throws {
        let blob = hostTree()
        try blob.withUnsafeBytes { bytes in
            let p = HostPlatform(deviceTree: try DeviceTree(bytes: bytes))
            XCTAssertEqual(p.ram, [AddressRange(base: HostPhysicalAddress(0x4000_0000), size: 0x4000_0000)])
            XCTAssertEqual(p.uart?.base, HostPhysicalAddress(0x0900_0000))
            XCTAssertEqual(p.gicDistributor?.base, HostPhysicalAddress(0x0800_0000))
            XCTAssertEqual(p.gicRedistributors?.size, 0xF6_0000)
            XCTAssertEqual(p.hypervisorTimerINTID, 26)
            XCTAssertEqual(p.cpuMPIDRs, [0, 1])
            XCTAssertEqual(p.psciConduit, .smc)
            XCTAssertEqual(p.bootArgument("swiftvisor.manifest"), 0x5000_0000)
            XCTAssertNil(p.bootArgument("quiet"))
        }
    }

    func test_guest_tree_round_trips() throws {
        let blob = GuestMachine.deviceTree(memoryBytes: 64 << 20, vcpus: 2, bootArguments: "console=ttyAMA0",
                                           initrd: AddressRange(base: GuestPhysicalAddress(0x4100_0000), size: 0x1000))
        XCTAssertEqual(blob.count % 4, 0)
        try blob.withUnsafeBytes { bytes in
            let tree = try DeviceTree(bytes: bytes)
            let p = HostPlatform(deviceTree: tree)
            XCTAssertEqual(p.ram, [AddressRange(base: HostPhysicalAddress(0x4000_0000), size: 64 << 20)])
            XCTAssertEqual(p.uart?.base, HostPhysicalAddress(0x0900_0000))
            XCTAssertEqual(p.psciConduit, .hvc)
            XCTAssertEqual(p.cpuMPIDRs, [0, 1])
            XCTAssertEqual(p.bootArguments, "console=ttyAMA0")
            let chosen = try XCTUnwrap(tree.node(path: "/chosen"))
            XCTAssertEqual(chosen.property("linux,initrd-start")?.cells(at: 0, count: 2), 0x4100_0000)
            XCTAssertEqual(chosen.property("linux,initrd-end")?.cells(at: 0, count: 2), 0x4100_1000)
            XCTAssertEqual(tree.node(path: "/psci")?.property("cpu_on")?.u32(0), 0xC400_0003)
            XCTAssertEqual(p.pmuINTID, 23, "the guest's PMU PPI read back as a host's")
            // The PMU per vCPU: PMUv3 with its overflow interrupt on PPI 7 (INTID 23), level-high.
            let pmu = try XCTUnwrap(tree.nodes(compatibleWith: "arm,armv8-pmuv3").first)
            XCTAssertEqual(pmu.property("interrupts")?.u32(0), 1)
            XCTAssertEqual(pmu.property("interrupts")?.u32(1), 7)
            XCTAssertEqual((pmu.property("interrupts")?.u32(2) ?? 0) & 0xF, 4)
        }
    }

    func test_rejects_what_is_not_a_device_tree() {
        let junk = [UInt8](repeating: 0xAB, count: 64)
        XCTAssertEqual(parseError(junk), .badMagic)
        var truncated = hostTree()
        truncated.removeLast(100)
        XCTAssertEqual(parseError(truncated), .truncated)
    }

    func parseError(_ bytes: [UInt8]) -> DeviceTree.ParseError? {
        bytes.withUnsafeBytes { b -> DeviceTree.ParseError? in
            do { _ = try DeviceTree(bytes: b); return nil } catch { return error as? DeviceTree.ParseError }
        }
    }

    func test_parse_number() {
        XCTAssertEqual(parseNumber("0x1F".utf8), 31)
        XCTAssertEqual(parseNumber("42".utf8), 42)
        XCTAssertNil(parseNumber("0xZZ".utf8))
        XCTAssertNil(parseNumber("99999999999999999999999".utf8))
    }
}

extension DeviceTreeTests {
    func test_a_platform_without_ram_gic_or_uart_names_each() {
        let empty = HostPlatform()
        XCTAssertEqual(empty.missingEssentials.map { "\($0)" }, [
            "RAM (no memory node with a non-empty reg)",
            "interrupt controller it knows (an arm,gic-v3 node with distributor and redistributor regions, or an arm,gic-400/arm,cortex-a15-gic node with GICD, GICC, GICH and GICV regions)",
            "console UART (/chosen/stdout-path, serial0 or a node compatible with arm,pl011 or cdns,uart-r1p12)",
        ])
    }
}

/// GICv2 hosts and guests in device trees.
final class GICv2DeviceTreeTests: XCTestCase {
    /// A GIC-400 node as QEMU virt (gic-version=2, virtualization=on) and real boards give it.
    func host(compatible: String, frames: Int = 4) throws -> HostPlatform {
        var b = DeviceTreeBuilder()
        b.beginNode("")
        b.property("#address-cells", cells: [2]); b.property("#size-cells", cells: [2])
        b.beginNode("intc@8000000"); b.property("compatible", string: compatible)
        b.property("interrupts", cells: [1, 9, 0x304])
        b.property("reg", u64Pairs: Array([0x0800_0000, 0x1_0000, 0x0801_0000, 0x1_0000, 0x0803_0000, 0x1_0000,
                                           0x0804_0000, 0x1_0000].prefix(2 * frames)))
        b.endNode()
        b.endNode()
        let blob = b.finish()
        return try blob.withUnsafeBytes { HostPlatform(deviceTree: try DeviceTree(bytes: $0)) }
    }

    func test_gic400_and_cortex_a15_gic_are_gicv2() throws {
        for compatible in ["arm,gic-400", "arm,cortex-a15-gic"] {
            let p = try host(compatible: compatible)
            XCTAssertEqual(p.gicVersion, .v2, compatible)
            XCTAssertEqual(p.gicDistributor?.base, HostPhysicalAddress(0x0800_0000))
            XCTAssertEqual(p.gicCPUInterface?.base, HostPhysicalAddress(0x0801_0000))
            XCTAssertEqual(p.gicHypervisorInterface?.base, HostPhysicalAddress(0x0803_0000))
            XCTAssertEqual(p.gicVirtualCPUInterface?.base, HostPhysicalAddress(0x0804_0000))
            XCTAssertEqual(p.maintenanceINTID, 25)
            XCTAssertNil(p.gicRedistributors)
            XCTAssertFalse(p.missingEssentials.contains { "\($0)".hasPrefix("interrupt controller") })
        }
    }

    func test_gicv2_without_virtualization_frames_is_missing() throws {
        let p = try host(compatible: "arm,gic-400", frames: 2)
        XCTAssertNil(p.gicVersion)
        XCTAssertTrue(p.missingEssentials.contains { "\($0)".hasPrefix("interrupt controller") })
    }

    func test_guest_tree_for_a_gicv2_host() throws {
        let blob = GuestMachine.deviceTree(memoryBytes: 64 << 20, vcpus: 2, bootArguments: "", gic: .v2)
        try blob.withUnsafeBytes { bytes in
            let tree = try DeviceTree(bytes: bytes)
            let gic = try XCTUnwrap(tree.node(path: "/intc@8000000"))
            XCTAssertTrue(gic.property("compatible")?.containsString("arm,cortex-a15-gic") ?? false)
            XCTAssertEqual(gic.reg.map(\.address), [0x0800_0000, 0x0801_0000])
            XCTAssertEqual(gic.reg.map(\.size), [0x1_0000, 0x2000], "GICC is the 8 KiB GICV")
            XCTAssertEqual(gic.property("interrupts")?.u32(2), 0x304, "maintenance PPI for CPUs 0 and 1, level-high")
            let timer = try XCTUnwrap(tree.nodes(compatibleWith: "arm,armv8-timer").first)
            XCTAssertEqual(timer.property("interrupts")?.u32(2), 0x304, "level-low, CPU mask 0b11")
            let p = HostPlatform(deviceTree: tree)
            XCTAssertEqual(p.virtualTimerINTID, 27)
        }
        // A GICv3 guest's PPI flags carry no CPU mask.
        let v3 = GuestMachine.deviceTree(memoryBytes: 64 << 20, vcpus: 2, bootArguments: "")
        try v3.withUnsafeBytes { bytes in
            let timer = try XCTUnwrap(try DeviceTree(bytes: bytes).nodes(compatibleWith: "arm,armv8-timer").first)
            XCTAssertEqual(timer.property("interrupts")?.u32(2), 0x104)
        }
    }
}
