// Offsets the assembly (vectors.S, fpsimd.S) uses into the structures arch.h declares. Plain
// numbers, so that .S files can include this too; arch.h checks every one against the C
// layout with _Static_assert, so a field moved in C fails the build instead of the guest.
#ifndef SWIFTVISOR_FRAME_LAYOUT_H
#define SWIFTVISOR_FRAME_LAYOUT_H

// struct vcpu_frame: x[n] at 8n, then ELR_EL2 and SPSR_EL2; 16-byte multiple for the stack.
#define FRAME_X(n)      (8 * (n))
#define FRAME_LR        240     // x[30]; ELR_EL2 follows, stored as a pair with it
#define FRAME_ELR       248
#define FRAME_SPSR      256
#define FRAME_SIZE      272

// struct core_context (TPIDR_EL2 points at it): the running vCPU's frame.
#define CORE_CONTEXT_FRAME  0

// struct fp_state: Qn at 16n, then FPSR and FPCR as a pair.
#define FP_STATE_Q(n)   (16 * (n))
#define FP_STATE_FPSR   512

#endif
