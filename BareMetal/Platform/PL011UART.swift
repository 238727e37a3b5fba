import _Volatile

/// Arm PrimeCell UART (PL011) as the hypervisor's console: polled transmit, receive by
/// interrupt (PrimeCell UART (PL011) Technical Reference Manual, DDI0183, 3.3). The boot
/// loader or firmware has set the baud rate; swiftvisor leaves the line settings alone.
struct PL011UART: UARTDriver {
    let base: UInt64

    /// UARTDR, data register; UARTFR, flag register; UARTIMSC, interrupt mask set/clear;
    /// UARTICR, interrupt clear.
    enum Register: UInt64 { case dr = 0x00, fr = 0x18, imsc = 0x38, icr = 0x44 }
    /// UARTFR.RXFE, bit 4: receive FIFO empty. UARTFR.TXFF, bit 5: transmit FIFO full.
    static let receiveFIFOEmpty: UInt32 = 1 << 4, transmitFIFOFull: UInt32 = 1 << 5
    /// RXIM/RXIC, bit 4: receive; RTIM/RTIC, bit 6: receive timeout (a byte sat in the FIFO).
    static let receiveInterrupts: UInt32 = 1 << 4 | 1 << 6

    func register(_ r: Register) -> VolatileMappedRegister<UInt32> {
        // SAFETY: `base` is the PL011 from the DTB, mapped Device-nGnRE by EL2MMU (or the MMU is off).
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base + r.rawValue))
    }

    func put(_ byte: UInt8) {
        let fr = register(.fr)
        while fr.load() & Self.transmitFIFOFull != 0 {}
        register(.dr).store(UInt32(byte))
    }

    func enableReceiveInterrupts() {
        register(.imsc).store(Self.receiveInterrupts)
    }

    /// Clears the receive interrupts, then takes every byte waiting (until FR.RXFE). In this
    /// order a byte arriving after the last check raises a new interrupt; the other way round
    /// its interrupt could be cleared while it stays in the FIFO, unseen until the next key.
    func receive(_ body: (UInt8) -> Void) {
        register(.icr).store(Self.receiveInterrupts)
        let fr = register(.fr), dr = register(.dr)
        while fr.load() & Self.receiveFIFOEmpty == 0 { body(UInt8(truncatingIfNeeded: dr.load())) }
    }
}
