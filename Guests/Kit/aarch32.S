// AArch32 EL0 under an AArch64 EL1 (Arm ARM, "Interprocessing"), for Guests/aarch32:
// an EL0 alias of RAM, code in A32 and T32 (hand-encoded: the assembler only knows A64), a
// return to EL0 with ERET (SPSR_EL1.M[4] = 1: AArch32) and a vector table whose every entry
// records which one it was, so that the guest can tell the vector an exception really took.
    .section .text.a32kit, "ax"

// a32_setup(): level-1 entry 3 of TTBR0_EL1's table (VA 0xC0000000-0xFFFFFFFF, inside the 4 GiB
// an AArch32 EL0 addresses) becomes an alias of RAM at 0x40000000 that EL0 may read, write and
// execute (AP = 0b01, UXN = 0; PXN: EL1 never runs it). SCTLR_EL1.nTWI = 1: EL0's WFI is not
// trapped to EL1, so HCR_EL2.TWI takes it to EL2 (Arm ARM D1.6.2).
    .global a32_setup
a32_setup:
    mrs     x0, ttbr0_el1
    and     x0, x0, #0x0000fffffffff000
    ldr     x1, =(0x40000000 | (1 << 53) | (1 << 10) | (3 << 8) | (1 << 6) | (1 << 2) | 1)
    str     x1, [x0, #(3 * 8)]
    dsb     ishst
    tlbi    vmalle1
    dsb     ish
    isb
    mrs     x0, sctlr_el1
    orr     x0, x0, #(1 << 16)          // nTWI
    msr     sctlr_el1, x0
    isb
    ret

// a32_run(pc, spsr, r0, r1): runs EL0 from `pc` in the state `spsr` says (R0, R1 as given, R2-R14
// zero: AArch32's R0-R14 are X0-X14, Arm ARM "Mapping of the general-purpose registers between
// the Execution states") until an exception other than an IRQ at
// +0x680 comes to EL1; returns the offset of the vector it came through (a32_record has the rest).
// VBAR_EL1 is a32_vectors meanwhile, the caller's again on return.
    .global a32_run
a32_run:
    stp     x29, x30, [sp, #-96]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    mov     x4, sp
    adrp    x5, a32_saved_sp
    str     x4, [x5, :lo12:a32_saved_sp]
    mrs     x4, vbar_el1
    adrp    x5, a32_saved_vbar
    str     x4, [x5, :lo12:a32_saved_vbar]
    adrp    x4, a32_vectors
    add     x4, x4, :lo12:a32_vectors
    msr     vbar_el1, x4
    isb
    msr     elr_el1, x0
    msr     spsr_el1, x1
    mov     x0, x2
    mov     x1, x3
    mov     x2, xzr
    mov     x3, xzr
    mov     x4, xzr
    mov     x5, xzr
    mov     x6, xzr
    mov     x7, xzr
    mov     x8, xzr
    mov     x9, xzr
    mov     x10, xzr
    mov     x11, xzr
    mov     x12, xzr
    mov     x13, xzr
    mov     x14, xzr
    eret

// Every entry: x15 = its offset from VBAR_EL1 (Arm ARM D1.10.2: +0x000 current EL with SP_EL0,
// +0x200 current EL with SP_ELx, +0x400 lower EL using AArch64, +0x600 lower EL using AArch32;
// each synchronous, IRQ, FIQ, SError 0x80 apart). X15 is no AArch32 User-mode register.
    .balign 2048
    .global a32_vectors
a32_vectors:
    .irp offset, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
    .balign 128
    mov     x15, #\offset
    b       a32_vector
    .endr

a32_vector:
    cmp     x15, #0x680
    b.eq    a32_irq
    // Anything else ends the run: record it and return to a32_run's caller.
    adrp    x16, a32_record
    add     x16, x16, :lo12:a32_record
    mrs     x17, esr_el1
    stp     x15, x17, [x16, #0]
    mrs     x17, elr_el1
    mrs     x18, spsr_el1
    stp     x17, x18, [x16, #16]
    mrs     x17, far_el1
    stp     x17, x0, [x16, #32]
    adrp    x16, a32_saved_vbar
    ldr     x17, [x16, :lo12:a32_saved_vbar]
    msr     vbar_el1, x17
    isb
    adrp    x16, a32_saved_sp
    ldr     x16, [x16, :lo12:a32_saved_sp]
    mov     sp, x16
    mov     x0, x15
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret

// IRQ from AArch32 EL0: the kit's handler (guest_irq) runs with R0-R14 and ELR/SPSR saved; it is
// counted with where it came from, and EL0 resumes with R0 = 1 (the loop it spins in ends).
a32_irq:
    sub     sp, sp, #144
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    mrs     x0, elr_el1
    mrs     x1, spsr_el1
    stp     x14, x0, [sp, #112]
    str     x1, [sp, #128]
    adrp    x2, a32_record
    add     x2, x2, :lo12:a32_record
    ldr     x3, [x2, #48]
    add     x3, x3, #1
    str     x3, [x2, #48]
    stp     x0, x1, [x2, #56]
    bl      guest_irq
    ldp     x14, x0, [sp, #112]
    ldr     x1, [sp, #128]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldr     x1, [sp, #8]
    mov     x0, #1
    add     sp, sp, #144
    eret

// EL0 code, each piece ended by SVC #0 (taken to EL1 at +0x600, ESR_EL1.EC 0x11). Little-endian;
// a 32-bit T32 instruction is its first halfword, then its second (Arm ARM, T32 instruction set).
    .balign 4
    .global a32_code_thumb16_wfi, a32_code_thumb32_wfi, a32_code_arm_wfi, a32_code_irq_loop, a32_code_arm_load
a32_code_thumb16_wfi:                   // T32
    .hword  0xBF30                      // WFI (16-bit, T1)
    .hword  0x3001                      // ADDS R0, #1
    .hword  0xDF00                      // SVC #0
    .balign 4
a32_code_thumb32_wfi:                   // T32
    .hword  0xF3AF, 0x8003              // WFI.W (32-bit, T2); its second half alone is STRH R3, [R0]
    .hword  0x3001                      // ADDS R0, #1
    .hword  0xDF00                      // SVC #0
    .balign 4
a32_code_arm_wfi:                       // A32
    .word   0xE320F003                  // WFI
    .word   0xE2800001                  // ADD R0, R0, #1
    .word   0xEF000000                  // SVC #0
a32_code_irq_loop:                      // T32: spins while R0 = 0
    .hword  0x2800                      // CMP R0, #0
    .hword  0xD0FD                      // BEQ a32_code_irq_loop
    .hword  0xDF00                      // SVC #0
    .balign 4
a32_code_arm_load:                      // A32
    .word   0xE5910000                  // LDR R0, [R1]
    .word   0xEF000000                  // SVC #0

    .data
    .balign 8
// struct a32_record { vector, esr, elr, spsr, far, r0, irqs, irq_elr, irq_spsr }
    .global a32_record
a32_record:   .space 72
a32_saved_sp: .quad 0
a32_saved_vbar: .quad 0
