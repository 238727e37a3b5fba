import XCTest
@testable import SwiftvisorCore

/// The extended regions the `/hypervisor` node advertises (unused guest-physical space), and
/// whether a guest may place grant mappings there (GrantPlacement: not; docs/xen.md).
final class ExtendedRegionTests: XCTestCase {
    func overlaps(_ r: AddressRange<GuestPhysicalAddress>, _ base: UInt64, _ end: UInt64) -> Bool {
        r.base.rawValue < end && base < r.base.rawValue + r.size
    }

    func test_xen_layout_regions_miss_its_gic_uart_ram_window_and_magic_pages() {
        for ram: UInt64 in [8 << 20, 256 << 20, 2 << 30] {
            let regions = XenHypervisorNode().extendedRegions(memoryBytes: ram, layout: .xen)
            XCTAssertFalse(regions.isEmpty)
            let taken: [(String, UInt64, UInt64)] = [
                ("GIC", 0x0300_1000, 0x0402_0000),   // distributor 0x03001000 .. redistributors' end
                ("UART", 0x2200_0000, 0x2200_1000),
                ("RAM", 0x4000_0000, 0x4000_0000 + ram),
                ("grant-table window", 0x3800_0000, 0x3900_0000),
                ("magic pages", XenGuestLayout.magicPages.base.rawValue, XenGuestLayout.magicPages.end.rawValue),
            ]
            for r in regions {
                XCTAssertGreaterThanOrEqual(r.size, 64 << 20)
                XCTAssertEqual(r.base.rawValue % (2 << 20), 0)
                XCTAssertLessThanOrEqual(r.base.rawValue + r.size, 1 << 39)
                for (what, base, end) in taken {
                    XCTAssertFalse(overlaps(r, base, end), "\(what) in region \(hex(r.base.rawValue))+\(hex(r.size)), RAM \(ram)")
                }
            }
            // In address order, not overlapping one another.
            for (a, b) in zip(regions, regions.dropFirst()) { XCTAssertLessThanOrEqual(a.base.rawValue + a.size, b.base.rawValue) }
            // The rest of Xen's RAM bank 0 after the guest's memory is one (find_domU_holes offers it too).
            XCTAssertTrue(regions.contains { $0.base.rawValue <= alignUp(0x4000_0000 + ram, 2 << 20) && $0.base.rawValue + $0.size >= 0xC000_0000 })
        }
    }

    func test_virt_layout_regions_miss_qemus_device_space_and_ram() {
        let ram: UInt64 = 64 << 20
        for r in XenHypervisorNode().extendedRegions(memoryBytes: ram, layout: .virt) {
            XCTAssertFalse(overlaps(r, 0x0800_0000, 0x0A00_0000), "GIC, UART and QEMU's devices")
            XCTAssertFalse(overlaps(r, 0x4000_0000, 0x4000_0000 + ram), "RAM")
            XCTAssertFalse(overlaps(r, 0x3800_0000, 0x3A00_0000), "grant window and magic pages")
        }
    }

    /// A guest maps grants (and grant frames) only over holes of its own RAM or in the grant
    /// window, not in the extended regions it is told about: stage-2 tables are not freed on
    /// unmap, so a place anywhere in the 39-bit space would let a guest make the hypervisor
    /// allocate tables without bound (one 4 KiB table per 2 MiB touched). Linux built with
    /// XEN_UNPOPULATED_ALLOC would use the regions; Debian's kernel maps over ballooned-out pages.
    func test_grant_placement_refuses_the_extended_regions() {
        let ram = AddressRange(base: GuestPhysicalAddress(0x4000_0000), size: 16 << 20)
        for r in XenHypervisorNode().extendedRegions(memoryBytes: ram.size, layout: .xen) {
            for a in [r.base.rawValue, r.base.rawValue + r.size - 0x1000] {
                XCTAssertFalse(GrantPlacement.allowed(GuestFrameNumber(a >> 12), ram: ram), hex(a))
            }
        }
        XCTAssertTrue(GrantPlacement.allowed(GuestFrameNumber(0x38000), ram: ram))
        XCTAssertTrue(GrantPlacement.allowed(GuestFrameNumber(0x40010), ram: ram))
    }

    func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}
