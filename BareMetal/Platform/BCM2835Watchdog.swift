import _Volatile

/// The BCM2835/BCM2711 power-management block's watchdog (`brcm,bcm2835-pm-wdt`): the only
/// way to reset or stop a Raspberry Pi, which has no PSCI. Registers and values as in Linux's
/// drivers/watchdog/bcm2835_wdt.c; every write carries the password in bits 31:24.
/// QEMU's raspi4b model (bcm2835_powermgt) resets the machine on a full-reset request, and
/// exits instead when run with `-no-reboot`.
struct BCM2835Watchdog {
    let base: UInt64

    /// PM_RSTC, reset control; PM_RSTS, reset status; PM_WDOG, watchdog timer.
    enum Register: UInt64 { case rstc = 0x1C, rsts = 0x20, wdog = 0x24 }
    static let password: UInt32 = 0x5A00_0000
    /// PM_RSTC.WRCFG, bits 5:4: 0b10 = full reset when the watchdog expires.
    static let wrcfgMask: UInt32 = 0x30, wrcfgFullReset: UInt32 = 0x20
    /// PM_RSTS partition bits (the even bits 0-10): 63 = 0x555 tells the firmware "halt".
    static let haltPartition: UInt32 = 0x555
    /// PM_WDOG.TIME_SET, bits 19:0, in 16 us ticks: 10 ticks.
    static let shortTimeout: UInt32 = 10

    func register(_ r: Register) -> VolatileMappedRegister<UInt32> {
        // SAFETY: `base` is the PM block from the DTB, mapped Device-nGnRE by EL2MMU (or the MMU is off).
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base + r.rawValue))
    }

    /// A full reset in 10 ticks (Linux's __bcm2835_restart).
    func reset() -> Never {
        register(.wdog).store(Self.password | Self.shortTimeout)
        let rstc = register(.rstc)
        rstc.store(Self.password | (rstc.load() & ~Self.wrcfgMask) | Self.wrcfgFullReset)
        while true {}
    }

    /// Marks the reset as a halt for the Raspberry Pi firmware (partition 63), then resets:
    /// the firmware then stays halted (Linux's bcm2835_power_off).
    func powerOff() -> Never {
        let rsts = register(.rsts)
        rsts.store(Self.password | (rsts.load() & ~Self.password & 0x00FF_FFFF) | Self.haltPartition)
        reset()
    }
}
