import XCTest
@testable import SwiftvisorCore

/// The framing between hypervisor and host, the hypervisor console's commands, the panic
/// watch, and the scheduler's pause and revive.
final class ConsoleMuxTests: XCTestCase {
    func decode(_ bytes: [UInt8]) -> [(ConsoleMux.Stream, String)] {
        var d = ConsoleMux.Decoder()
        var runs: [(ConsoleMux.Stream, String)] = []
        d.feed(bytes) { runs.append(($0, String(decoding: $1, as: UTF8.self))) }
        return runs
    }

    func test_streams_are_split_and_dle_is_escaped() {
        let dle = ConsoleMux.escape
        let bytes = Array("boot\n".utf8) + [dle, 0x67, 1] + Array("guest one".utf8) + [dle, dle] + Array("x".utf8)
            + [dle, 0x68] + Array("swiftvisor: hi\n".utf8)
        let runs = decode(bytes)
        XCTAssertEqual(runs.map(\.0), [.hypervisor, .guest(1), .hypervisor])
        XCTAssertEqual(runs.map(\.1), ["boot\n", "guest one\u{10}x", "swiftvisor: hi\n"])
    }

    func test_a_frame_split_across_reads_is_reassembled() {
        var d = ConsoleMux.Decoder()
        var out: [(ConsoleMux.Stream, [UInt8])] = []
        for chunk in [[ConsoleMux.escape], [0x67], [3, 0x41], [ConsoleMux.escape], [ConsoleMux.escape, 0x42]] {
            d.feed(chunk) { out.append(($0, $1)) }
        }
        XCTAssertEqual(out.map(\.0), [.guest(3), .guest(3)])
        XCTAssertEqual(out.flatMap(\.1), [0x41, 0x10, 0x42])
    }

    func test_host_input_frames_decode_in_the_hypervisor() {
        var d = ConsoleMux.InputDecoder()
        let bytes = ConsoleMux.focusOn(guest: 2) + ConsoleMux.escaped([0x61, 0x10, 0x03]) + ConsoleMux.commandLine("list")
        let events = bytes.compactMap { d.accept($0) }
        XCTAssertEqual(events, [.focus(guest: 2), .data(0x61), .data(0x10), .data(0x03), .command(Array("list".utf8))])
    }

    func test_an_overlong_command_is_cut_not_grown() {
        var d = ConsoleMux.InputDecoder()
        let events = ConsoleMux.commandLine(String(repeating: "a", count: 1000)).compactMap { d.accept($0) }
        guard case .command(let line)? = events.last else { return XCTFail("no command") }
        XCTAssertEqual(line.count, ConsoleMux.InputDecoder.maximumCommandLength)
    }

    func test_console_commands_parse() {
        func p(_ s: String) -> ConsoleCommand.Parsed { ConsoleCommand.parse(Array(s.utf8)) }
        XCTAssertEqual(p("list"), .command(.list))
        XCTAssertEqual(p("  pause   web \r"), .command(.pause(Array("web".utf8))))
        XCTAssertEqual(p("create db"), .command(.create(Array("db".utf8))))
        XCTAssertEqual(p("quit"), .command(.quit))
        XCTAssertEqual(p(""), .invalid(.empty))
        XCTAssertEqual(p("destroy"), .invalid(.needsGuest(Array("destroy".utf8))))
        XCTAssertEqual(p("destroy a b"), .invalid(.extraWords(Array("destroy".utf8))))
        XCTAssertEqual(p("list all"), .invalid(.extraWords(Array("list".utf8))))
        XCTAssertEqual(p("reboto x"), .invalid(.unknown(Array("reboto".utf8))))
    }

    func test_the_panic_watch_sees_linux_panics_once() {
        var w = KernelPanicWatch()
        var hits = 0
        for b in "[ 1.0] Kernel panic: no\r\n[ 2.0] KKernel panic - not syncing: sysrq\r\nKernel panic - again".utf8 where w.accept(b) { hits += 1 }
        XCTAssertEqual(hits, 1)
        XCTAssertTrue(w.seen)
    }

    func test_a_panic_watch_may_skip_bytes_only_while_no_match_is_under_way() {
        var w = KernelPanicWatch()
        XCTAssertFalse(w.isMatching)
        XCTAssertEqual(KernelPanicWatch.firstByte, UInt8(ascii: "K"))
        for b in "xx Kernel pa".utf8 { _ = w.accept(b) }
        XCTAssertTrue(w.isMatching, "a phrase cut between two chunks must be followed into the next")
        var seen = false
        for b in "nic - not syncing".utf8 where w.accept(b) { seen = true }
        XCTAssertTrue(seen)
        XCTAssertFalse(w.isMatching)
    }

    func test_the_manifest_carries_autostart() throws {
        let g = BootManifest.Guest(name: "later", kernel: .init(base: HostPhysicalAddress(0x5000_0000), size: 64),
                                   memoryBytes: 4 << 20, vcpus: 1, commandLine: "x", autostart: false)
        let m = BootManifest(guests: [g, BootManifest.Guest(name: "now", kernel: g.kernel, memoryBytes: 4 << 20, vcpus: 1, commandLine: "")])
        let parsed = try m.encoded.withUnsafeBytes { try BootManifest(bytes: $0) }
        XCTAssertEqual(parsed, m)
        XCTAssertEqual(parsed.guests.map(\.autostart), [false, true])
    }
}
