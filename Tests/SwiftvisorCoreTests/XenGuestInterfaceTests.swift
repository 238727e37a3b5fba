import XCTest
@testable import SwiftvisorCore

/// vm_assist, hvm_op params and multicall decode and answer as Xen 4.17 on Arm does for a domU.
final class XenGuestInterfaceTests: XCTestCase {
    func decode(_ n: UInt64, _ x0: UInt64 = 0, _ x1: UInt64 = 0, _ x2: UInt64 = 0) -> Result<XenHypercall, XenABI.Errno> {
        XenHypercall.decode(number: n, x0: x0, x1: x1, x2: x2)
    }

    func test_vm_assist_offers_only_the_runstate_update_flag() {
        XCTAssertEqual(decode(21, 0, 5), .success(.vmAssist(.enable)))
        XCTAssertEqual(decode(21, 1, 5), .success(.vmAssist(.disable)))
        XCTAssertEqual(decode(21, 2, 5), .failure(.enosys))
        // The type is checked first: x86 types are -EINVAL whatever the command.
        for type in [0, 1, 2, 3, 4, 32, 64] as [UInt64] {
            XCTAssertEqual(decode(21, 0, type), .failure(.einval), "\(type)")
            XCTAssertEqual(decode(21, 9, type), .failure(.einval), "\(type)")
        }
    }

    func test_hvm_op_decodes_get_set_and_guest_request() {
        XCTAssertEqual(decode(34, 0, 0x4000_1000), .success(.hvmParam(set: true, argument: 0x4000_1000)))
        XCTAssertEqual(decode(34, 1, 0x4000_1000), .success(.hvmParam(set: false, argument: 0x4000_1000)))
        XCTAssertEqual(decode(34, 24, 0), .success(.hvmGuestRequest))
        XCTAssertEqual(decode(34, 24, 0x1000), .failure(.einval))
        XCTAssertEqual(decode(34, 2, 0x1000), .failure(.enosys))
    }

    func request(_ index: UInt32, domid: UInt16 = XenHVMParam.domidSelf) -> XenHVMParam.Request {
        XenHVMParam.Request(domid: domid, index: index, value: 0x1234)
    }

    func test_a_domU_without_store_or_console_reads_its_params_as_zero_and_sets_none() {
        for index in [0, 1, 2, 17, 18] as [UInt32] {
            XCTAssertEqual(XenHVMParam.get(request(index)), .success(0), "\(index)")
            XCTAssertEqual(XenHVMParam.set(request(index)), .eperm, "\(index)")
        }
        XCTAssertEqual(XenHVMParam.get(request(28)), .failure(.eperm))   // MONITOR_RING_PFN: toolstack only
        XCTAssertEqual(XenHVMParam.set(request(28)), .eperm)
        for index in [3, 16, 19, 39, 0xFFFF_FFFF] as [UInt32] {
            XCTAssertEqual(XenHVMParam.get(request(index)), .failure(.einval), "\(index)")
            XCTAssertEqual(XenHVMParam.set(request(index)), .einval, "\(index)")
        }
        XCTAssertEqual(XenHVMParam.get(request(1, domid: 0)), .failure(.esrch))
        XCTAssertEqual(XenHVMParam.set(request(1, domid: 5)), .esrch)
    }

    func test_a_domU_reads_its_magic_pages_and_service_ports() {
        let both = XenHVMParam.Values(storePort: 1, consolePort: 2)
        XCTAssertEqual(XenHVMParam.get(request(1), values: both), .success(0x39001), "HVM_PARAM_STORE_PFN: GUEST_MAGIC_BASE + 1 page")
        XCTAssertEqual(XenHVMParam.get(request(2), values: both), .success(1))
        XCTAssertEqual(XenHVMParam.get(request(17), values: both), .success(0x39000), "HVM_PARAM_CONSOLE_PFN: GUEST_MAGIC_BASE")
        XCTAssertEqual(XenHVMParam.get(request(18), values: both), .success(2))
        XCTAssertEqual(XenHVMParam.get(request(0), values: both), .success(0), "no callback IRQ on Arm")
        XCTAssertEqual(XenHVMParam.set(request(1)), .eperm, "the toolstack's, not the guest's")
        let consoleOnly = XenHVMParam.Values(storePort: nil, consolePort: 1)
        XCTAssertEqual(XenHVMParam.get(request(1), values: consoleOnly), .success(0))
        XCTAssertEqual(XenHVMParam.get(request(2), values: consoleOnly), .success(0))
        XCTAssertEqual(XenHVMParam.get(request(17), values: consoleOnly), .success(0x39000))
    }

    func test_enhanced_decides_the_services_a_guest_is_connected_to() {
        XCTAssertEqual(XenEnhanced.enabled.services, [.xenstore, .console])
        XCTAssertEqual(XenEnhanced.noXenstore.services, [.console])
        XCTAssertEqual(XenEnhanced.disabled.services, [])
    }

    func test_xen_hvm_param_layout() {
        let bytes: [UInt8] = [0xF0, 0x7F, 0xAA, 0xBB, 17, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
        let r = XenHVMParam.Request(bytes: bytes)
        XCTAssertEqual(r, XenHVMParam.Request(domid: 0x7FF0, index: 17, value: 0x0807_0605_0403_0201))
        XCTAssertEqual(r.bytes(pad: 0xBBAA), bytes)
    }

    func test_multicall_entries() {
        XCTAssertEqual(decode(13, 0x4000_0000, 3), .success(.multicall(list: 0x4000_0000, count: 3)))
        XCTAssertEqual(decode(13, 0x4000_0000, 0xFFFF_FFFF_0000_0002), .success(.multicall(list: 0x4000_0000, count: 2)))
        var raw = [UInt8](repeating: 0, count: 64)
        for w in 0..<8 { raw[8 * w] = UInt8(w + 1) }
        raw[0] = 17   // op = xen_version
        let e = XenMulticall.Entry(bytes: raw)
        XCTAssertEqual(e, XenMulticall.Entry(op: 17, args: (3, 4, 5, 6, 7, 8)))
        XCTAssertEqual(XenMulticall.subcall(XenMulticall.Entry(op: 17, args: (0, 0, 0, 0, 0, 0))), .success(.version))
        XCTAssertEqual(XenMulticall.subcall(XenMulticall.Entry(op: 13, args: (0x4000_0000, 1, 0, 0, 0, 0))), .failure(.einval))
        XCTAssertEqual(XenMulticall.subcall(XenMulticall.Entry(op: 1, args: (0, 0, 0, 0, 0, 0))), .failure(.enosys))
        XCTAssertEqual(XenMulticall.entryAddress(list: 0x4000_0000, index: 2), 0x4000_0080)
        XCTAssertNil(XenMulticall.entryAddress(list: UInt64.max - 63, index: 1))
        XCTAssertNil(XenMulticall.entryAddress(list: 0, index: UInt64.max / 32))
    }
}

final class XenNumberMaskTests: XCTestCase {
    func test_the_fast_paths_number_mask_is_the_number_enum() {
        var mask: UInt64 = 0
        for n in XenABI.Number.allCases { XCTAssertLessThan(n.rawValue, 64); mask |= 1 << n.rawValue }
        XCTAssertEqual(XenABI.implementedNumbers, mask)
        for n in [12, 13, 18, 20, 21, 24, 29, 32, 34] as [UInt64] {
            XCTAssertNil(StatelessHypercall.answer(immediate: 0xEA1, x16: n, x0: 0, x1: 0), "\(n)")
        }
        for n in [0, 11, 33, 63, 64, 1 << 40] as [UInt64] {
            XCTAssertEqual(StatelessHypercall.answer(immediate: 0xEA1, x16: n, x0: 0, x1: 0), UInt64(bitPattern: -38), "\(n)")
        }
    }
}
