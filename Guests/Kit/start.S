// Test guest entry (docs/guest-boot.md): EL1h, MMU off, x0 = DTB. Sets up a stack, FP/SIMD,
// the exception vectors and a map of 1 GiB blocks over a 64 GiB address space: 0-1 GiB
// Device and 1-17 GiB Normal, both identity (RAM at 1 GiB, up to the largest guest RAM,
// 16 GiB: its device tree lies at its end); 32-33 GiB a read-only alias of 1-2 GiB (to test
// that hypercalls honour stage-1 permissions). Then calls guest_main(dtb).
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    str     xzr, [x1], #8
    b       1b
2:  adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    mov     sp, x1
    // Level-1 table of 1 GiB blocks (written once, by vCPU 0).
    adrp    x1, guest_page_table
    add     x1, x1, :lo12:guest_page_table
    ldr     x2, =(0x0 | (1 << 10) | (0 << 2) | (3 << 53) | 1)          // Device-nGnRnE, XN
    str     x2, [x1, #0]
    ldr     x2, =(0x40000000 | (1 << 10) | (3 << 8) | (1 << 2) | 1)    // Normal WB, 1 GiB
    mov     x3, #1
    mov     x4, #0x40000000
3:  str     x2, [x1, x3, lsl #3]                                        // entries 1-16
    add     x2, x2, x4
    add     x3, x3, #1
    cmp     x3, #17
    b.lo    3b
    ldr     x2, =(0x40000000 | (1 << 10) | (3 << 8) | (3 << 6) | (1 << 2) | 1)  // AP=RO
    str     x2, [x1, #(32 * 8)]                                         // VA 32 GiB
    bl      cpu_setup
    mov     x0, x19
    bl      guest_main
    b       spin_forever_masked

    .global secondary_entry
secondary_entry:
    mov     sp, x0
    bl      cpu_setup
    mrs     x0, mpidr_el1
    bl      guest_secondary_main
    b       spin_forever_masked

// FP/SIMD, vectors, and the MMU over guest_page_table: what every vCPU needs.
cpu_setup:
    mov     x1, #(3 << 20)            // CPACR_EL1.FPEN: FP/SIMD on
    msr     cpacr_el1, x1
    adrp    x1, guest_vectors
    add     x1, x1, :lo12:guest_vectors
    msr     vbar_el1, x1
    adrp    x1, guest_page_table
    add     x1, x1, :lo12:guest_page_table
    msr     ttbr0_el1, x1
    ldr     x2, =0xFF00                // MAIR: Attr0 Device-nGnRnE, Attr1 Normal WB
    msr     mair_el1, x2
    // TCR_EL1: T0SZ=28 (64 GiB, lookup starts at level 1), IRGN0/ORGN0 WB, SH0 inner, TG0 4K,
    // EPD1 (no TTBR1), IPS=1 (36-bit IPA: 64 GiB).
    ldr     x2, =(28 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (1 << 32))
    msr     tcr_el1, x2
    isb
    tlbi    vmalle1
    dsb     nsh
    isb
    mrs     x2, sctlr_el1
    orr     x2, x2, #1                 // M
    orr     x2, x2, #(1 << 2)          // C
    orr     x2, x2, #(1 << 12)         // I
    msr     sctlr_el1, x2
    isb
    ret

    .global guest_mmu_off
guest_mmu_off:
    mrs     x0, sctlr_el1
    bic     x0, x0, #1
    bic     x0, x0, #(1 << 2)
    msr     sctlr_el1, x0
    isb
    ret

    .global spin_forever_masked
spin_forever_masked:
    msr     daifset, #0xf
1:  b       1b

    .global crash_at
crash_at:
    msr     vbar_el1, xzr
    isb
    br      x0

// Synchronous exceptions at EL1: while a probe is armed, record ESR_EL1 and skip the
// faulting instruction; otherwise report to Swift, which shuts the guest down as crashed.
    .balign 2048
guest_vectors:
    .balign 128
    b       unexpected_exception
    .balign 128
    b       unexpected_exception
    .balign 128
    b       unexpected_exception
    .balign 128
    b       unexpected_exception
    .balign 128                         // current EL, SP_ELx, synchronous
    b       sync_exception
    .balign 128                         // current EL, SP_ELx, IRQ
    b       irq_exception
    .balign 128
    b       unexpected_exception
    .balign 128
    b       unexpected_exception
    .rept 8
    .balign 128
    b       unexpected_exception
    .endr

// IRQ: save the caller-saved registers and ELR/SPSR, run the Swift handler.
irq_exception:
    sub     sp, sp, #192
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    mrs     x0, elr_el1
    mrs     x1, spsr_el1
    stp     x30, x0, [sp, #160]
    str     x1, [sp, #176]
    bl      guest_irq
    ldp     x30, x0, [sp, #160]
    ldr     x1, [sp, #176]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x29, [sp, #144]
    add     sp, sp, #192
    eret

sync_exception:
    stp     x0, x1, [sp, #-16]!
    adrp    x0, probe_armed
    ldr     x1, [x0, :lo12:probe_armed]
    cbz     x1, 1f
    mrs     x1, esr_el1
    adrp    x0, probe_fault_esr
    str     x1, [x0, :lo12:probe_fault_esr]
    mrs     x0, elr_el1
    add     x0, x0, #4
    msr     elr_el1, x0
    ldp     x0, x1, [sp], #16
    eret
1:  ldp     x0, x1, [sp], #16
unexpected_exception:
    mrs     x0, esr_el1
    mrs     x1, elr_el1
    mrs     x2, far_el1
    bl      guest_unexpected_exception
    b       spin_forever_masked

    .data
    .balign 8
    .global probe_fault_esr, probe_armed
probe_fault_esr: .quad 0
probe_armed:     .quad 0
    .bss
    .balign 4096
guest_page_table: .space 4096
