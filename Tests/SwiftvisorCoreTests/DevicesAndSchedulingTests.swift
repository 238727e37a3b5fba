import XCTest
@testable import SwiftvisorCore

final class DevicesAndSchedulingTests: XCTestCase {
    func test_pl011_is_always_ready_to_send() {
        var u = PL011()
        XCTAssertEqual(u.read(offset: 0x18) & (1 << 5), 0, "TXFF clear")
        XCTAssertNotEqual(u.read(offset: 0x18) & (1 << 7), 0, "TXFE set")
        XCTAssertEqual(u.write(offset: 0x00, value: 0x41), 0x41)
        XCTAssertNil(u.write(offset: 0x24, value: 13))
        XCTAssertEqual(u.read(offset: 0x24), 13)
    }

    func test_pl011_identifies_as_a_primecell_uart() {
        let u = PL011()
        XCTAssertEqual((0..<4).map { u.read(offset: 0xFE0 + UInt64($0) * 4) }, [0x11, 0x10, 0x34, 0x00])
        XCTAssertEqual((0..<4).map { u.read(offset: 0xFF0 + UInt64($0) * 4) }, [0x0D, 0xF0, 0x05, 0xB1])
    }

    func test_pl011_interrupt_mask() {
        var u = PL011()
        XCTAssertEqual(u.read(offset: 0x40), 0)
        _ = u.write(offset: 0x38, value: 1 << 5)
        XCTAssertEqual(u.read(offset: 0x40), 1 << 5)
    }

    func test_console_lines() {
        var l = ConsoleLine()
        for b in "hi\r".utf8 { XCTAssertFalse(l.append(b)) }
        XCTAssertTrue(l.append(UInt8(ascii: "\n")))
        XCTAssertEqual(l.take(), Array("hi".utf8))
        XCTAssertFalse(l.append(0x1B))
        XCTAssertEqual(l.take(), Array("?".utf8), "control bytes are neutralised")
        var long = ConsoleLine()
        var flushed = false
        for _ in 0..<ConsoleLine.capacity { flushed = long.append(UInt8(ascii: "x")) }
        XCTAssertTrue(flushed, "a long line is broken at capacity")
    }

    func test_system_description_problems() {
        let ok = SystemDescription.Guest(name: "a", kernel: "k", memoryMiB: 16)
        XCTAssertEqual(SystemDescription(guests: [ok]).problems(), [])
        let problems = SystemDescription(guests: [
            ok, ok, .init(name: "bad name!", kernel: "k", memoryMiB: 1, vcpus: 0, line: 9),
        ]).problems()
        XCTAssertEqual(problems.map(\.key), ["name", "name", "memory", "vcpus"])
        XCTAssertEqual(problems[2].line, 9)
        XCTAssertFalse(SystemDescription(guests: [.init(name: "x", kernel: "k", memoryMiB: 16000),
                                                  .init(name: "y", kernel: "k", memoryMiB: 16000)]).problems().isEmpty)
        XCTAssertFalse(SystemDescription(guests: []).problems().isEmpty)
    }
}

final class ConsoleInputTests: XCTestCase {
    func test_three_ctrl_a_move_the_focus_round() {
        var c = ConsoleInput(guestCount: 2)
        XCTAssertEqual(c.focus, .hypervisor)
        XCTAssertEqual(c.accept(1), .nothing)
        XCTAssertEqual(c.accept(1), .nothing)
        XCTAssertEqual(c.accept(1), .switched(.guest(0)))
        for _ in 0..<2 { _ = c.accept(1) }
        XCTAssertEqual(c.accept(1), .switched(.guest(1)))
        for _ in 0..<2 { _ = c.accept(1) }
        XCTAssertEqual(c.accept(1), .switched(.hypervisor))
    }

    func test_a_lone_ctrl_a_is_delivered() {
        var c = ConsoleInput(guestCount: 1, focus: .guest(0))
        XCTAssertEqual(c.accept(1), .nothing)
        XCTAssertEqual(c.accept(UInt8(ascii: "x")), .deliver([1, UInt8(ascii: "x")]))
        XCTAssertEqual(c.focus, .guest(0))
    }

    func test_pl011_receive_fifo_and_interrupt_line() {
        var u = PL011()
        _ = u.write(offset: 0x38, value: 1 << 4)          // IMSC.RXIM
        XCTAssertFalse(u.interruptLine)
        XCTAssertTrue(u.receive(UInt8(ascii: "a")))
        XCTAssertEqual(u.read(offset: 0x18) & (1 << 4), 0, "RXFE clear")
        XCTAssertTrue(u.interruptLine)
        XCTAssertEqual(u.readAndConsume(offset: 0), UInt32(UInt8(ascii: "a")))
        XCTAssertFalse(u.interruptLine)
        XCTAssertNotEqual(u.read(offset: 0x18) & (1 << 4), 0, "RXFE set again")
        for _ in 0..<PL011.receiveFIFOSize { XCTAssertTrue(u.receive(0x20)) }
        XCTAssertFalse(u.receive(0x20), "full")
    }

    func test_level_line_repends_after_completion() {
        var g = VirtualGIC(vcpuCount: 1)
        _ = g.distributorWrite(offset: 0, value: 0b10)
        _ = g.distributorWrite(offset: 0x0084, value: 1 << 1)   // SPI 33 group 1
        _ = g.distributorWrite(offset: 0x0104, value: 1 << 1)   // enabled
        XCTAssertEqual(g.setLine(33, high: true), 0)
        var lrs = ListRegisterFile(count: 4)
        _ = lrs.refresh(&g, vcpu: 0)
        lrs.registers[0] = .empty                               // completed, line still high
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertEqual(lrs.registers[0].virtualINTID, 33, "pending again")
        lrs.registers[0] = .empty
        XCTAssertNil(g.setLine(33, high: false))
        _ = lrs.refresh(&g, vcpu: 0)
        XCTAssertEqual(lrs.inUseMask, 0)
    }
}
