// Benchmark loops: each iteration is one round trip plus the loop's own two instructions,
// which bench_empty measures so that it can be subtracted.
    .text
    .global bench_xen_version, bench_psci_version, bench_mmio_read, bench_empty
bench_xen_version:
    mov     x9, x0
    mov     x16, #17                    // __HYPERVISOR_xen_version
1:  mov     x0, #0                      // XENVER_version
    hvc     #0xEA1
    subs    x9, x9, #1
    b.ne    1b
    ret
bench_psci_version:
    mov     x9, x0
    mov     w10, #0x84000000            // PSCI_VERSION
1:  mov     x0, x10
    hvc     #0
    subs    x9, x9, #1
    b.ne    1b
    ret
bench_mmio_read:
    mov     x9, x0
1:  mov     x0, x1
    ldr     w0, [x1, #0x18]             // PL011 FR
    subs    x9, x9, #1
    b.ne    1b
    ret
bench_empty:
    mov     x9, x0
1:  mov     x0, #0
    nop
    subs    x9, x9, #1
    b.ne    1b
    ret
