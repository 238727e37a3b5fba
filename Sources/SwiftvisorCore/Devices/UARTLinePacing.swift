/// A UART line's transmit timing at a given baud rate, for `swiftvisor.uart-baud=N`. QEMU's
/// UARTs send every byte at once, so there console output costs next to nothing, and no test
/// could see what a real line costs whoever waits for it (a 16 KiB console_io write is 1.4 s
/// at 115200 baud). With it, the hypervisor waits for its UART as it would on hardware: each
/// byte takes 10 bit times on the line (8N1: start, 8 data, stop), and the transmit FIFO
/// holds `fifoDepth` bytes (a PL011's is 32 deep, PrimeCell UART TRM DDI 0183 2.4.3).
public struct UARTLinePacing: Equatable {
    /// Counter ticks one byte takes on the line.
    public let ticksPerByte: UInt64
    public let fifoDepth: UInt64
    /// Counter time at which every byte written so far has left the line.
    public private(set) var lineFreeAt: UInt64 = 0

    /// nil for a baud rate of 0 (the boot argument absent or malformed).
    public init?(baud: UInt64, counterFrequency: UInt64, fifoDepth: UInt64 = 32) {
        guard baud > 0, counterFrequency > 0, fifoDepth > 0 else { return nil }
        ticksPerByte = max(1, counterFrequency.multipliedReportingOverflow(by: 10).partialValue / baud)
        self.fifoDepth = fifoDepth
    }

    /// The earliest counter time at which a byte may be written, `now` being the time: when
    /// the FIFO has room, that is, at most `fifoDepth - 1` bytes still wait to go out.
    public func writableAt(now: UInt64) -> UInt64 {
        let backlog = (fifoDepth - 1) * ticksPerByte
        return lineFreeAt > backlog ? max(now, lineFreeAt - backlog) : now
    }

    /// A byte was written at `now`: it leaves the line after those ahead of it.
    public mutating func wrote(at now: UInt64) {
        lineFreeAt = max(lineFreeAt, now) + ticksPerByte
    }
}
