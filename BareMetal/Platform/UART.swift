import SwiftvisorCore

/// What the hypervisor's console needs from a physical UART: polled output and
/// interrupt-driven input. The line settings are the boot loader's.
protocol UARTDriver {
    /// Writes one byte, waiting while the transmit FIFO is full.
    func put(_ byte: UInt8)
    /// Raises the UART's interrupt when a byte has arrived.
    func enableReceiveInterrupts()
    /// Acknowledges the receive interrupt and hands over every byte waiting.
    func receive(_ body: (UInt8) -> Void)
}

/// The console UART, one of the drivers, chosen at boot by the host device tree's
/// `compatible` (an enum: Embedded Swift has no existentials of non-class protocols).
enum HostUART: UARTDriver {
    case pl011(PL011UART)
    case cadence(CadenceUART)

    /// The driver for `model` at `base`, ready to transmit.
    init(model: UARTModel, base: UInt64) {
        switch model {
        case .pl011: self = .pl011(PL011UART(base: base))
        case .cadence:
            let uart = CadenceUART(base: base)
            uart.start()
            self = .cadence(uart)
        }
    }

    @inline(__always) func put(_ byte: UInt8) {
        switch self {
        case .pl011(let u): u.put(byte)
        case .cadence(let u): u.put(byte)
        }
    }

    func enableReceiveInterrupts() {
        switch self {
        case .pl011(let u): u.enableReceiveInterrupts()
        case .cadence(let u): u.enableReceiveInterrupts()
        }
    }

    func receive(_ body: (UInt8) -> Void) {
        switch self {
        case .pl011(let u): u.receive(body)
        case .cadence(let u): u.receive(body)
        }
    }
}
