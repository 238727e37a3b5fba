import CGuest
import SwiftvisorCore

/// Times hypercall, PSCI and emulated-MMIO round trips with CNTVCT. Under QEMU -icount
/// shift=0 one nanosecond is one instruction, so ticks convert to instructions; the loop's
/// own cost (bench_empty) is subtracted.
@_cdecl("guest_main")
func guestMain(_ dtb: UInt64) {
    Guest.start(deviceTree: dtb)
    let iterations: UInt64 = 100_000
    let nsPerTick = 1_000_000_000 / read_cntfrq()
    func measure(_ body: () -> Void) -> UInt64 {
        let t0 = read_cntvct()
        body()
        return (read_cntvct() - t0) * nsPerTick
    }
    let empty = measure { _ = bench_empty(iterations) }
    let results: [(StaticString, UInt64)] = [
        ("hypercall_xen_version", measure { _ = bench_xen_version(iterations) }),
        ("psci_version", measure { _ = bench_psci_version(iterations) }),
        ("mmio_pl011_fr_read", measure { _ = bench_mmio_read(iterations, Guest.uartBase) }),
    ]
    for (name, total) in results {
        Guest.print("\(name): \((total - min(total, empty)) / iterations) instructions")
    }
    Guest.shutdown(.poweroff, exitCode: 0)
}
