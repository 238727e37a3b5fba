// EL2 exception vectors (Arm ARM D1.10.2). Exits from a guest save its registers into the
// frame of the core's running vCPU (TPIDR_EL2 -> struct core_context -> struct vcpu_frame), call Swift, and resume whichever frame Swift
// returns. EL2's own exceptions are hypervisor bugs: they save a frame on the stack and panic.

#include "frame_layout.h"

#define EXIT_SYNC 0
#define EXIT_IRQ  1
#define EXIT_FIQ  2
#define EXIT_SERROR 3

// Saves the guest's registers into its vCPU frame; leaves the frame in x0.
.macro guest_save
    stp     x0, x1, [sp, #-16]!
    mrs     x0, tpidr_el2               // struct core_context
    ldr     x0, [x0, #CORE_CONTEXT_FRAME] // its vCPU frame
    stp     x2, x3, [x0, #FRAME_X(2)]
    stp     x4, x5, [x0, #FRAME_X(4)]
    stp     x6, x7, [x0, #FRAME_X(6)]
    stp     x8, x9, [x0, #FRAME_X(8)]
    stp     x10, x11, [x0, #FRAME_X(10)]
    stp     x12, x13, [x0, #FRAME_X(12)]
    stp     x14, x15, [x0, #FRAME_X(14)]
    stp     x16, x17, [x0, #FRAME_X(16)]
    stp     x18, x19, [x0, #FRAME_X(18)]
    stp     x20, x21, [x0, #FRAME_X(20)]
    stp     x22, x23, [x0, #FRAME_X(22)]
    stp     x24, x25, [x0, #FRAME_X(24)]
    stp     x26, x27, [x0, #FRAME_X(26)]
    stp     x28, x29, [x0, #FRAME_X(28)]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0, #FRAME_X(0)]      // the guest's x0, x1
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x30, x2, [x0, #FRAME_LR]
    str     x3, [x0, #FRAME_SPSR]
.endm

.macro guest_exit kind
    guest_save
    mov     x1, #\kind
    bl      swiftvisor_guest_exit
    b       guest_resume
.endm

// Spectre-v2 on an affected core whose firmware implements SMCCC_ARCH_WORKAROUND_1
// (GuestExitHardening, issue 11 §2): the firmware invalidates the branch predictor on every
// exit, once the guest's registers are saved (the call may change x0-x17: SMCCC 1.0 rules)
// and before any hypervisor code a guest's branch training could steer. 31 instructions.
.macro guest_exit_workaround_1 kind
    guest_save
    movz    w0, #0x8000                 // SMCCC_ARCH_WORKAROUND_1, 0x80008000 (DEN0028 7.5)
    movk    w0, #0x8000, lsl #16
    smc     #0
    mrs     x0, tpidr_el2
    ldr     x0, [x0, #CORE_CONTEXT_FRAME]
    mov     x1, #\kind
    bl      swiftvisor_guest_exit
    b       guest_resume
.endm

.macro hypervisor_fault kind
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #FRAME_X(0)]
    stp     x2, x3, [sp, #FRAME_X(2)]
    stp     x4, x5, [sp, #FRAME_X(4)]
    stp     x6, x7, [sp, #FRAME_X(6)]
    stp     x8, x9, [sp, #FRAME_X(8)]
    stp     x10, x11, [sp, #FRAME_X(10)]
    stp     x12, x13, [sp, #FRAME_X(12)]
    stp     x14, x15, [sp, #FRAME_X(14)]
    stp     x16, x17, [sp, #FRAME_X(16)]
    stp     x18, x19, [sp, #FRAME_X(18)]
    stp     x20, x21, [sp, #FRAME_X(20)]
    stp     x22, x23, [sp, #FRAME_X(22)]
    stp     x24, x25, [sp, #FRAME_X(24)]
    stp     x26, x27, [sp, #FRAME_X(26)]
    stp     x28, x29, [sp, #FRAME_X(28)]
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x30, x2, [sp, #FRAME_LR]
    str     x3, [sp, #FRAME_SPSR]
    mov     x0, sp
    mov     x1, #\kind
    bl      swiftvisor_hypervisor_fault
    b       halt_forever
.endm

    .section .text.vectors, "ax"
    .balign 2048
    .global el2_vectors
el2_vectors:
    // Current EL with SP_EL0: never used by swiftvisor.
    .balign 128
    hypervisor_fault EXIT_SYNC
    .balign 128
    hypervisor_fault EXIT_IRQ
    .balign 128
    hypervisor_fault EXIT_FIQ
    .balign 128
    hypervisor_fault EXIT_SERROR
    // Current EL with SP_EL2: a fault inside the hypervisor.
    .balign 128
    hypervisor_fault EXIT_SYNC
    .balign 128
    hypervisor_fault EXIT_IRQ
    .balign 128
    hypervisor_fault EXIT_FIQ
    .balign 128
    hypervisor_fault EXIT_SERROR
    // Lower EL, AArch64: the guest.
    .balign 128
    guest_exit EXIT_SYNC
    .balign 128
    guest_exit EXIT_IRQ
    .balign 128
    guest_exit EXIT_FIQ
    .balign 128
    guest_exit EXIT_SERROR
    // Lower EL, AArch32: the guest's EL0 running AArch32 (HCR_EL2.RW keeps EL1 AArch64 only;
    // R0-R14 are X0-X14 (Arm ARM, mapping of the general-purpose registers between the Execution
    // states), so the same frame holds them).
    .balign 128
    guest_exit EXIT_SYNC
    .balign 128
    guest_exit EXIT_IRQ
    .balign 128
    guest_exit EXIT_FIQ
    .balign 128
    guest_exit EXIT_SERROR

// The same table with guest_exit_workaround_1 for exits from the guest. Boot points VBAR_EL2
// here only on the cores GuestExitHardening chooses it for (BranchPredictorHardening.detect).
    .balign 2048
    .global el2_vectors_workaround_1
el2_vectors_workaround_1:
    .balign 128
    hypervisor_fault EXIT_SYNC
    .balign 128
    hypervisor_fault EXIT_IRQ
    .balign 128
    hypervisor_fault EXIT_FIQ
    .balign 128
    hypervisor_fault EXIT_SERROR
    .balign 128
    hypervisor_fault EXIT_SYNC
    .balign 128
    hypervisor_fault EXIT_IRQ
    .balign 128
    hypervisor_fault EXIT_FIQ
    .balign 128
    hypervisor_fault EXIT_SERROR
    .balign 128
    guest_exit_workaround_1 EXIT_SYNC
    .balign 128
    guest_exit_workaround_1 EXIT_IRQ
    .balign 128
    guest_exit_workaround_1 EXIT_FIQ
    .balign 128
    guest_exit_workaround_1 EXIT_SERROR
    // Lower EL, AArch32: the guest's EL0, as in el2_vectors.
    .balign 128
    guest_exit_workaround_1 EXIT_SYNC
    .balign 128
    guest_exit_workaround_1 EXIT_IRQ
    .balign 128
    guest_exit_workaround_1 EXIT_FIQ
    .balign 128
    guest_exit_workaround_1 EXIT_SERROR

    .text
// x0 = frame to run. Restores it and returns to the guest.
    .global guest_resume
guest_resume:
    mrs     x1, tpidr_el2
    str     x0, [x1, #CORE_CONTEXT_FRAME] // core_context.frame
    ldp     x30, x2, [x0, #FRAME_LR]
    ldr     x3, [x0, #FRAME_SPSR]
    msr     elr_el2, x2
    msr     spsr_el2, x3
    ldp     x2, x3, [x0, #FRAME_X(2)]
    ldp     x4, x5, [x0, #FRAME_X(4)]
    ldp     x6, x7, [x0, #FRAME_X(6)]
    ldp     x8, x9, [x0, #FRAME_X(8)]
    ldp     x10, x11, [x0, #FRAME_X(10)]
    ldp     x12, x13, [x0, #FRAME_X(12)]
    ldp     x14, x15, [x0, #FRAME_X(14)]
    ldp     x16, x17, [x0, #FRAME_X(16)]
    ldp     x18, x19, [x0, #FRAME_X(18)]
    ldp     x20, x21, [x0, #FRAME_X(20)]
    ldp     x22, x23, [x0, #FRAME_X(22)]
    ldp     x24, x25, [x0, #FRAME_X(24)]
    ldp     x26, x27, [x0, #FRAME_X(26)]
    ldp     x28, x29, [x0, #FRAME_X(28)]
    ldp     x0, x1, [x0, #FRAME_X(0)]
    eret

// enter_guest_first(frame, stack_top): drop the boot call chain and run the first vCPU.
    .global enter_guest_first
enter_guest_first:
    mov     sp, x1
    b       guest_resume
