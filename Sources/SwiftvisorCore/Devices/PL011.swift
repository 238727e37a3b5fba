/// An emulated Arm PrimeCell UART (PL011), register model per the PL011 TRM (DDI0183) 3.2.
/// Transmit is instantaneous, so the transmit FIFO always reads as empty; received bytes (the
/// host's keyboard, when this guest has the input focus) wait in a receive buffer of 256 bytes
/// (a real PL011 holds 32; drivers read until FR.RXFE, and a pasted line then fits whole).
public struct PL011 {
    public typealias Register = PL011Register

    /// FR: TXFE, the transmit FIFO is empty (always, here); RXFE, the receive FIFO is empty.
    @usableFromInline static var flagTransmitEmpty: UInt32 { PL011Flags.transmitFIFOEmpty.rawValue }
    @usableFromInline static var flagReceiveEmpty: UInt32 { PL011Flags.receiveFIFOEmpty.rawValue }
    /// RIS.TXRIS: the transmit FIFO has room (always, here).
    @usableFromInline static var transmitInterrupt: UInt32 { PL011Interrupts.transmit.rawValue }
    /// RIS.RXRIS and RTRIS (receive timeout): received data waits. Without a baud-rate model,
    /// both are raised while the FIFO holds anything.
    @usableFromInline static var receiveInterrupts: UInt32 { PL011Interrupts.receive.rawValue | PL011Interrupts.receiveTimeout.rawValue }
    public static let receiveFIFOSize = 256
    /// Received bytes, oldest first.
    public private(set) var receiveFIFO: [UInt8] = []
    /// PeriphID0-3 and PCellID0-3 at 0xFE0-0xFFC: a PL011 r1p5.
    static let identification: [UInt32] = [0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1]

    public var ibrd: UInt32 = 0, fbrd: UInt32 = 0, lcrh: UInt32 = 0, ilpr: UInt32 = 0
    /// CR reset value: TXE and RXE set (TRM 3.3.8).
    public var cr: UInt32 = PL011Control.reset.rawValue
    public var ifls: UInt32 = 0x12, imsc: UInt32 = 0, dmacr: UInt32 = 0

    public init() {}

    @inlinable public var rawInterruptStatus: UInt32 { Self.transmitInterrupt | (receiveFIFO.isEmpty ? 0 : Self.receiveInterrupts) }
    @inlinable public var maskedInterruptStatus: UInt32 { rawInterruptStatus & imsc }
    /// The level of the UART's interrupt line (UARTINTR).
    @inlinable public var interruptLine: Bool { maskedInterruptStatus != 0 }

    /// FR: the transmit FIFO is always empty; RXFE while nothing was received.
    @inlinable public var flags: UInt32 { Self.flagTransmitEmpty | (receiveFIFO.isEmpty ? Self.flagReceiveEmpty : 0) }

    /// A byte arrives from the outside; false when the FIFO is full (the byte is lost).
    public mutating func receive(_ byte: UInt8) -> Bool {
        guard receiveFIFO.count < Self.receiveFIFOSize else { return false }
        receiveFIFO.append(byte)
        return true
    }

    /// A register read at `offset`, which may consume a received byte (DR); unknown offsets
    /// read as zero.
    public mutating func readAndConsume(offset: UInt64) -> UInt32 {
        if offset == Register.dr.rawValue, !receiveFIFO.isEmpty { return UInt32(receiveFIFO.removeFirst()) }
        return read(offset: offset)
    }

    /// A register read at `offset` without side effects; unknown offsets read as zero.
    public func read(offset: UInt64) -> UInt32 {
        if offset >= 0xFE0 && offset <= 0xFFC && offset & 3 == 0 {
            return Self.identification[Int((offset - 0xFE0) / 4)]
        }
        guard let r = Register(rawValue: offset) else { return 0 }
        switch r {
        case .dr: return receiveFIFO.first.map(UInt32.init) ?? 0
        case .rsrecr, .icr: return 0
        case .fr: return flags
        case .ilpr: return ilpr
        case .ibrd: return ibrd
        case .fbrd: return fbrd
        case .lcrh: return lcrh
        case .cr: return cr
        case .ifls: return ifls
        case .imsc: return imsc
        case .ris: return rawInterruptStatus
        case .mis: return maskedInterruptStatus
        case .dmacr: return dmacr
        }
    }

    /// A register write; returns the byte transmitted when the write was to DR.
    public mutating func write(offset: UInt64, value: UInt32) -> UInt8? {
        guard let r = Register(rawValue: offset) else { return nil }
        switch r {
        case .dr: return UInt8(truncatingIfNeeded: value)
        case .ilpr: ilpr = value & 0xFF
        case .ibrd: ibrd = value & 0xFFFF
        case .fbrd: fbrd = value & 0x3F
        case .lcrh: lcrh = value & 0xFF
        case .cr: cr = value & PL011Control.implemented.rawValue
        case .ifls: ifls = value & 0x3F
        case .imsc: imsc = value & PL011Interrupts.implemented.rawValue
        case .dmacr: dmacr = value & 0x7
        case .fr, .ris, .mis, .rsrecr, .icr: break
        }
        return nil
    }
}

extension PL011 {
    /// A guest access through the device path. PL011 registers are 32 bits; narrower accesses
    /// see or replace their bytes of the word, wider ones the word (TRM 3.2). Returns the
    /// value read (0 for a write) and the byte transmitted, if any.
    @inlinable @inline(__always)
    public mutating func access(_ a: MMIOAccess) -> (read: UInt64, transmitted: UInt8?) {
        // FR polls are most of a console driver's accesses (one per byte sent): no lookup.
        if !a.isWrite && a.wordOffset == Register.fr.rawValue { return (a.lanes(of: flags), nil) }
        if a.isWrite {
            // Bytes of a word other than DR's low one are not data: a write of them is a
            // write of the word with the other bytes zero, as before.
            let value = UInt32(truncatingIfNeeded: a.value << a.laneShift)
            return (0, write(offset: a.wordOffset, value: value))
        }
        return (a.lanes(of: readAndConsume(offset: a.wordOffset)), nil)
    }
}
