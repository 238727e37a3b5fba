import _Volatile

/// The Arm PrimeCell PL031 real-time clock (ARM DDI 0224): RTCDR, its data register, counts
/// seconds since the Unix epoch as QEMU sets it from the host's clock (`-rtc base=utc`).
struct PL031RTC {
    let base: UInt64

    /// RTCDR, offset 0x000: the current time in seconds (read only).
    var seconds: UInt32 {
        // SAFETY: `base` is the RTC from the host DTB, mapped Device-nGnRE by EL2MMU.
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base)).load()
    }
}
