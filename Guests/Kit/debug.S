// Self-hosted debug from a guest's EL1 (Arm ARM D2), for Guests/debugcheck: a vector table
// whose synchronous handler takes the debug exceptions (breakpoint, watchpoint, software step,
// BRK) and records them in `debug_record`, register accessors, and code to put them on.
    .section .text.debugkit, "ax"

// struct { esr, elr, far, count, steps }: the last debug exception and how many were taken.
    .global debug_install_vectors
debug_install_vectors:
    adrp    x0, debug_vectors
    add     x0, x0, :lo12:debug_vectors
    msr     vbar_el1, x0
    isb
    ret

    .balign 2048
debug_vectors:
    .rept 4
    .balign 128
    b       debug_unexpected
    .endr
    .balign 128                         // current EL, SP_ELx, synchronous
    b       debug_sync
    .rept 11
    .balign 128
    b       debug_unexpected
    .endr

// ESR_EL1.EC (Arm ARM D17.2.37): 0x31 breakpoint, 0x33 software step, 0x35 watchpoint (all
// "same EL"), 0x3C BRK. Breakpoint, watchpoint and BRK: skip the instruction (the breakpointed
// nop, the watched store, the BRK). Step: go on stepping until `debug_step_end`.
debug_sync:
    stp     x0, x1, [sp, #-32]!
    stp     x2, x3, [sp, #16]
    mrs     x0, esr_el1
    lsr     x1, x0, #26
    cmp     x1, #0x31
    b.eq    1f
    cmp     x1, #0x33
    b.eq    1f
    cmp     x1, #0x35
    b.eq    1f
    cmp     x1, #0x3C
    b.ne    9f
1:  adrp    x2, debug_record
    add     x2, x2, :lo12:debug_record
    str     x0, [x2, #0]
    mrs     x3, elr_el1
    str     x3, [x2, #8]
    mrs     x3, far_el1
    str     x3, [x2, #16]
    ldr     x3, [x2, #24]
    add     x3, x3, #1
    str     x3, [x2, #24]
    cmp     x1, #0x33
    b.eq    2f
    mrs     x3, elr_el1
    add     x3, x3, #4
    msr     elr_el1, x3
    b       8f
2:  ldr     x3, [x2, #32]               // a step
    add     x3, x3, #1
    str     x3, [x2, #32]
    mrs     x3, elr_el1
    adrp    x0, debug_step_end
    add     x0, x0, :lo12:debug_step_end
    cmp     x3, x0
    b.eq    3f
    mrs     x3, spsr_el1                // step the next instruction too: SPSR.SS = 1
    orr     x3, x3, #(1 << 21)
    msr     spsr_el1, x3
    b       8f
3:  mrs     x3, mdscr_el1               // done: MDSCR_EL1.SS = 0
    bic     x3, x3, #1
    msr     mdscr_el1, x3
8:  ldp     x2, x3, [sp, #16]
    ldp     x0, x1, [sp], #32
    eret
9:  ldp     x2, x3, [sp, #16]
    ldp     x0, x1, [sp], #32
debug_unexpected:
    mrs     x0, esr_el1
    mrs     x1, elr_el1
    mrs     x2, far_el1
    bl      guest_unexpected_exception
1:  b       1b

// Returns 7; a breakpoint goes on its first instruction.
    .global debug_target
debug_target:
    nop
    mov     x0, #7
    ret

    .global debug_store
debug_store:                            // (address, value)
    str     x1, [x0]
    ret

    .global debug_load
debug_load:                             // (address) -> value
    ldr     x0, [x0]
    ret

    .global debug_brk
debug_brk:
    brk     #0x42
    ret

// Single-steps DEBUG_STEP_BODY (guest.h) instructions of debug_step_body from EL1 (MDSCR_EL1.SS
// and SPSR_EL1.SS set, D unmasked, I/A/F masked), including one the hypervisor traps and
// emulates (an OSLSR_EL1 read); returns x0, which the body counts up by one per `add`.
    .global debug_step_run
debug_step_run:
    msr     daifset, #8                 // D: no step here (it would overwrite ELR/SPSR_EL1)
    mrs     x1, mdscr_el1
    orr     x1, x1, #1
    msr     mdscr_el1, x1
    adrp    x1, debug_step_body
    add     x1, x1, :lo12:debug_step_body
    msr     elr_el1, x1
    mov     x1, #0x1C5                  // EL1h, A, I, F masked, D clear
    orr     x1, x1, #(1 << 21)          // SS
    msr     spsr_el1, x1
    mov     x0, #0
    isb
    eret
debug_step_body:
    .rept 8
    add     x0, x0, #1
    .endr
    mrs     x2, oslsr_el1               // trapped (MDCR_EL2.TDOSA), emulated by the hypervisor
    .rept 8
    add     x0, x0, #1
    .endr
    .global debug_step_end
debug_step_end:
    ret


    .data
    .balign 8
    .global debug_record
debug_record: .quad 0, 0, 0, 0, 0
// A word for watchpoints, at the same address in every guest built from the same binary.
    .global debug_watched
debug_watched: .quad 0
