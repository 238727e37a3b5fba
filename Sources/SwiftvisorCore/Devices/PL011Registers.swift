/// The Arm PrimeCell UART (PL011)'s registers, by their names in the PL011 TRM (DDI0183, 3.2
/// "Summary of registers", 3.3 "Register descriptions"): the offsets and bits both the emulated
/// UART (`PL011`) and a driver of a real one use.
public enum PL011Register: UInt64 {
    /// UARTDR, data; UARTRSR/ECR, receive status and error clear.
    case dr = 0x000, rsrecr = 0x004
    /// UARTFR, flags (`PL011Flags`).
    case fr = 0x018
    /// UARTILPR, IrDA low-power counter; UARTIBRD/FBRD, integer and fractional baud rate.
    case ilpr = 0x020, ibrd = 0x024, fbrd = 0x028
    /// UARTLCR_H, line control; UARTCR, control (`PL011Control`); UARTIFLS, FIFO levels.
    case lcrh = 0x02C, cr = 0x030, ifls = 0x034
    /// UARTIMSC, RIS, MIS and ICR: interrupt mask, raw and masked status, clear (`PL011Interrupts`).
    case imsc = 0x038, ris = 0x03C, mis = 0x040, icr = 0x044
    /// UARTDMACR, DMA control.
    case dmacr = 0x048
}

/// UARTFR, the flag register (TRM 3.3.3).
public struct PL011Flags: OptionSet, Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// BUSY, bit 3: the UART is transmitting.
    @inlinable public static var busy: PL011Flags { PL011Flags(rawValue: 1 << 3) }
    /// RXFE, bit 4: the receive FIFO is empty.
    @inlinable public static var receiveFIFOEmpty: PL011Flags { PL011Flags(rawValue: 1 << 4) }
    /// TXFF, bit 5: the transmit FIFO is full.
    @inlinable public static var transmitFIFOFull: PL011Flags { PL011Flags(rawValue: 1 << 5) }
    /// RXFF, bit 6: the receive FIFO is full.
    @inlinable public static var receiveFIFOFull: PL011Flags { PL011Flags(rawValue: 1 << 6) }
    /// TXFE, bit 7: the transmit FIFO is empty.
    @inlinable public static var transmitFIFOEmpty: PL011Flags { PL011Flags(rawValue: 1 << 7) }
}

/// UARTCR, the control register (TRM 3.3.8).
public struct PL011Control: OptionSet, Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// UARTEN, bit 0: the UART is enabled.
    @inlinable public static var uartEnable: PL011Control { PL011Control(rawValue: 1 << 0) }
    /// TXE, bit 8: transmit enabled.
    @inlinable public static var transmitEnable: PL011Control { PL011Control(rawValue: 1 << 8) }
    /// RXE, bit 9: receive enabled.
    @inlinable public static var receiveEnable: PL011Control { PL011Control(rawValue: 1 << 9) }
    /// The bits that exist (TRM 3.3.8: 15:11, 9:7, 2:0; the rest reserved).
    public static let implemented = PL011Control(rawValue: 0xFF87)
    /// Reset value: TXE and RXE set, the UART disabled.
    public static let reset: PL011Control = [.transmitEnable, .receiveEnable]
}

/// The interrupt bits of UARTIMSC, UARTRIS, UARTMIS and UARTICR (TRM 3.3.10 to 3.3.13).
public struct PL011Interrupts: OptionSet, Equatable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// RXIM/RXRIS, bit 4: receive.
    @inlinable public static var receive: PL011Interrupts { PL011Interrupts(rawValue: 1 << 4) }
    /// TXIM/TXRIS, bit 5: transmit.
    @inlinable public static var transmit: PL011Interrupts { PL011Interrupts(rawValue: 1 << 5) }
    /// RTIM/RTRIS, bit 6: receive timeout.
    @inlinable public static var receiveTimeout: PL011Interrupts { PL011Interrupts(rawValue: 1 << 6) }
    /// Bits 10:0 exist.
    public static let implemented = PL011Interrupts(rawValue: 0x7FF)
}
