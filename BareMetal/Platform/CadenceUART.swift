import _Volatile

/// Cadence UART (`cdns,uart-r1p12`, `xlnx,xuartps`) as the hypervisor's console: the Zynq
/// UltraScale+ UART (Zynq UltraScale+ Device TRM UG1085, chapter 21 and its register reference;
/// offsets and bits as in Linux's drivers/tty/serial/xilinx_uartps.c). Polled transmit, receive
/// by interrupt. The baud rate is the boot loader's; transmit and receive are enabled here,
/// because out of reset (and on QEMU started without firmware) both are disabled.
struct CadenceUART: UARTDriver {
    let base: UInt64

    /// Control_reg0, Intrpt_en_reg0, Intrpt_dis_reg0, Intrpt_mask_reg0 (read: enabled ones),
    /// Chnl_int_sts_reg0 (write 1 to clear), Rcvr_FIFO_trigger_level0, Channel_sts_reg0, TX_RX_FIFO0.
    enum Register: UInt64 {
        case control = 0x00, interruptEnable = 0x08, interruptDisable = 0x0C, interruptMask = 0x10
        case interruptStatus = 0x14, receiveTriggerLevel = 0x20
        case channelStatus = 0x2C, fifo = 0x30
    }
    /// Control_reg0: RXEN bit 2, RXDIS bit 3, TXEN bit 4, TXDIS bit 5.
    static let receiveEnable: UInt32 = 1 << 2, receiveDisable: UInt32 = 1 << 3
    static let transmitEnable: UInt32 = 1 << 4, transmitDisable: UInt32 = 1 << 5
    /// Channel_sts_reg0: REMPTY bit 1 (receive FIFO empty), TFUL bit 4 (transmit FIFO full).
    static let receiveFIFOEmpty: UInt32 = 1 << 1, transmitFIFOFull: UInt32 = 1 << 4
    /// Interrupt bits (IER/IDR/IMR/ISR): RTRIG bit 0 (receive FIFO at the trigger level),
    /// TIMEOUT bit 8 (receiver idle for a while).
    static let receiveTrigger: UInt32 = 1 << 0, receiveTimeout: UInt32 = 1 << 8

    func register(_ r: Register) -> VolatileMappedRegister<UInt32> {
        // SAFETY: `base` is the Cadence UART from the DTB, mapped Device-nGnRE by EL2MMU (or the MMU is off).
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base + r.rawValue))
    }

    /// Enables the transmitter and receiver (clearing TXDIS/RXDIS, which win over TXEN/RXEN).
    func start() {
        let control = register(.control)
        let value = control.load() & ~(Self.transmitDisable | Self.receiveDisable)
        control.store(value | Self.transmitEnable | Self.receiveEnable)
    }

    func put(_ byte: UInt8) {
        let status = register(.channelStatus)
        while status.load() & Self.transmitFIFOFull != 0 {}
        register(.fifo).store(UInt32(byte))
    }

    /// An interrupt for every byte: trigger level 1 and RTRIG enabled. (TIMEOUT is left
    /// masked: with a trigger level of 1 no byte waits for it, and QEMU's model raises it after
    /// every burst, which would cost an empty interrupt each time.)
    func enableReceiveInterrupts() {
        register(.receiveTriggerLevel).store(1)
        register(.interruptDisable).store(Self.receiveTimeout)
        register(.interruptStatus).store(Self.receiveTrigger | Self.receiveTimeout)   // write 1 to clear
        register(.interruptEnable).store(Self.receiveTrigger)
    }

    /// Takes every byte waiting, clears the receive interrupts, then takes what arrived in
    /// between: ISR bits latch, so a byte that comes after the clear raises a new interrupt and
    /// none is left unseen; one arriving between the two drains at worst costs an empty interrupt.
    func receive(_ body: (UInt8) -> Void) {
        let status = register(.channelStatus), fifo = register(.fifo)
        while status.load() & Self.receiveFIFOEmpty == 0 { body(UInt8(truncatingIfNeeded: fifo.load())) }
        register(.interruptStatus).store(Self.receiveTrigger | Self.receiveTimeout)
        while status.load() & Self.receiveFIFOEmpty == 0 { body(UInt8(truncatingIfNeeded: fifo.load())) }
    }
}
