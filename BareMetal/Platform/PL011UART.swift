import _Volatile
import SwiftvisorCore

/// Arm PrimeCell UART (PL011) as the hypervisor's console: polled transmit, receive by
/// interrupt (PrimeCell UART (PL011) Technical Reference Manual, DDI0183, 3.3). The boot
/// loader or firmware has set the baud rate; swiftvisor leaves the line settings alone.
/// Registers and bits are the core's `PL011Register`/`PL011Flags`/`PL011Interrupts`, which the
/// emulated UART uses too.
struct PL011UART: UARTDriver {
    let base: UInt64

    /// RXIM/RXIC and RTIM/RTIC: a byte arrived, or one sat in the FIFO (receive timeout).
    static let receiveInterrupts: PL011Interrupts = [.receive, .receiveTimeout]

    func register(_ r: PL011Register) -> VolatileMappedRegister<UInt32> {
        // SAFETY: `base` is the PL011 from the DTB, mapped Device-nGnRE by EL2MMU (or the MMU is off).
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base + r.rawValue))
    }

    func flags() -> PL011Flags { PL011Flags(rawValue: register(.fr).load()) }

    func put(_ byte: UInt8) {
        while flags().contains(.transmitFIFOFull) {}
        register(.dr).store(UInt32(byte))
    }

    func enableReceiveInterrupts() {
        register(.imsc).store(Self.receiveInterrupts.rawValue)
    }

    /// Clears the receive interrupts, then takes every byte waiting (until FR.RXFE). In this
    /// order a byte arriving after the last check raises a new interrupt; the other way round
    /// its interrupt could be cleared while it stays in the FIFO, unseen until the next key.
    func receive(_ body: (UInt8) -> Void) {
        register(.icr).store(Self.receiveInterrupts.rawValue)
        let dr = register(.dr)
        while !flags().contains(.receiveFIFOEmpty) { body(UInt8(truncatingIfNeeded: dr.load())) }
    }
}
