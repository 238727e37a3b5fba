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

// EVTCHNOP_send on a port bound to the guest's own unbound port, as Xen's figure in
// shared/PLATFORM.md was taken: x0 = count, x1 = &struct evtchn_send, x2 = shared_info. After
// every send the guest clears vcpu 0's evtchn_upcall_pending (shared_info + 0),
// evtchn_pending_sel (+ 8) and pending word 0 (+ 48), so each send takes the whole set-pending
// path and raises the event-channel PPI. bench_evtchn_clear_only is the same loop without the hvc.
    .global bench_evtchn_send, bench_evtchn_clear_only
bench_evtchn_send:
    mov     x9, x0
    mov     x10, x1
    mov     x11, x2                     // x1-x4 are the call's arguments: keep shared_info apart
1:  mov     x16, #32                    // __HYPERVISOR_event_channel_op
    mov     x0, #4                      // EVTCHNOP_send
    mov     x1, x10
    hvc     #0xEA1
    strb    wzr, [x11]
    str     xzr, [x11, #8]
    str     xzr, [x11, #48]
    subs    x9, x9, #1
    b.ne    1b
    ret
bench_evtchn_clear_only:
    mov     x9, x0
    mov     x10, x1
    mov     x11, x2                     // x1-x4 are the call's arguments: keep shared_info apart
1:  mov     x16, #32
    mov     x0, #4
    mov     x1, x10
    nop
    strb    wzr, [x11]
    str     xzr, [x11, #8]
    str     xzr, [x11, #48]
    subs    x9, x9, #1
    b.ne    1b
    ret
