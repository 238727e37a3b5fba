import CArch
import SwiftvisorCore

/// The hypervisor's own console: the physical UART the DTB names (HostPlatform: stdout-path,
/// serial0), driven by Platform's PL011 or Cadence driver. Polled output; guests never touch
/// it (they get an emulated PL011). The framing and line decisions below happen as bytes are
/// appended, so the ring (ConsoleOutput) carries the final byte stream.
enum Console {
    /// nil until boot has read the device tree: nothing is printed.
    nonisolated(unsafe) static var uart: HostUART?
    /// A guest's partial line is on the console (the focused guest's output goes out as it
    /// comes): anything else printed first ends it, so that every line has one owner.
    nonisolated(unsafe) static var partialLineOwner: UInt16?
    /// The host tool runs us (`swiftvisor.mux=1`): each guest's console and ours are separate
    /// streams on the line (ConsoleMux), guests' bytes pass untouched.
    nonisolated(unsafe) static var multiplexed = false
    /// The stream being sent: -1 ours, else the guest's manifest index.
    nonisolated(unsafe) static var stream = -1

    static func endPartialLine() {
        if partialLineOwner != nil { partialLineOwner = nil; put(UInt8(ascii: "\n")) }
    }

    @inline(never)
    static func put(_ byte: UInt8) {
        if byte == UInt8(ascii: "\n") { putRaw(UInt8(ascii: "\r")) }
        putRaw(byte)
        if multiplexed && byte == ConsoleMux.escape { putRaw(byte) }
    }

    /// Once guests run, output goes through the ring and reaches the UART outside the lock
    /// (ConsoleOutput); before that, and from a panic or power-off on, straight to the UART.
    nonisolated(unsafe) static var buffered = false

    static func putRaw(_ byte: UInt8) {
        if buffered { ConsoleOutput.append(byte) } else { transmit(byte) }
    }

    /// `swiftvisor.uart-baud=N`: the UART waits as a real line at N baud would (QEMU's sends
    /// at once); nil: as fast as the UART takes bytes.
    nonisolated(unsafe) static var pacing: UARTLinePacing?

    /// One byte to the physical UART (whoever sends: the ring's drainer, or anyone before the
    /// scheduler starts and from a panic on).
    static func transmit(_ byte: UInt8) {
        if pacing != nil {
            let until = pacing.unsafelyUnwrapped.writableAt(now: read_cntpct_el0())
            while read_cntpct_el0() < until { spin_wait_hint() }
            pacing!.wrote(at: read_cntpct_el0())
        }
        uart?.put(byte)
    }

    /// Multiplexed: the hypervisor's own stream follows.
    static func selectHypervisorStream() {
        guard multiplexed, stream != -1 else { return }
        putRaw(ConsoleMux.escape); putRaw(ConsoleMux.hypervisorStream)
        stream = -1
    }

    /// Multiplexed: one byte of guest `index`'s console, as the guest wrote it.
    static func guestByte(_ index: Int, _ byte: UInt8) {
        if stream != index {
            putRaw(ConsoleMux.escape); putRaw(ConsoleMux.guestStream); putRaw(UInt8(truncatingIfNeeded: index))
            stream = index
        }
        putRaw(byte)
        if byte == ConsoleMux.escape { putRaw(byte) }
    }

    /// Turns on the UART's receive interrupt, so typed bytes reach the hypervisor.
    static func enableReceiveInterrupts() {
        uart?.enableReceiveInterrupts()
    }

    /// Acknowledges the receive interrupt and hands over every byte waiting.
    static func receive(_ body: (UInt8) -> Void) {
        uart?.receive(body)
    }

    static func write(_ s: StaticString) {
        s.withUTF8Buffer { for b in $0 { put(b) } }
    }

    static func write(_ s: String) {
        for b in s.utf8 { put(b) }
    }

    static func write(bytes: [UInt8]) { for b in bytes { put(b) } }

    /// Numbers as every hypervisor line writes them (MessageWriter: one definition, which
    /// the host's parser reads back).
    static func hex(_ v: UInt64) { MessageWriter.hex(v) { put($0) } }

    static func decimal(_ v: UInt64) { MessageWriter.decimal(v) { put($0) } }

    static func decimal(_ v: Int64) {
        if v < 0 { put(UInt8(ascii: "-")); decimal(UInt64(bitPattern: 0 &- v)) } else { decimal(UInt64(v)) }
    }

    /// Starts a hypervisor message line; the host tool recognises this prefix.
    static func log(_ s: StaticString) {
        endPartialLine(); selectHypervisorStream(); write(HypervisorMessage.linePrefix); write(s)
    }

    /// A message the host tool reads (ConsoleReport parses it from the same definition), as a
    /// whole line; `endLine: false` leaves the line open for more detail (a panic's).
    static func log(_ message: HypervisorMessage, endLine: Bool = true) {
        endPartialLine(); selectHypervisorStream()
        message.write(to: put)
        if endLine { put(UInt8(ascii: "\n")) }
    }

    /// Starts another message about a guest: "swiftvisor: guest 'NAME'" and `text`.
    static func logGuest(_ name: String, _ text: StaticString) {
        log("guest '"); write(name); write(text)
    }
}
