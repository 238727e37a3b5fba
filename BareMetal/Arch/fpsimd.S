// FP/SIMD state of a vCPU (struct fp_state). The hypervisor is built with
// -mgeneral-regs-only, so these registers only change hands on a vCPU switch.
#include "frame_layout.h"

    .text
    .arch armv8-a+fp+simd
    .global fp_state_save
fp_state_save:
    stp     q0, q1, [x0, #FP_STATE_Q(0)]
    stp     q2, q3, [x0, #FP_STATE_Q(2)]
    stp     q4, q5, [x0, #FP_STATE_Q(4)]
    stp     q6, q7, [x0, #FP_STATE_Q(6)]
    stp     q8, q9, [x0, #FP_STATE_Q(8)]
    stp     q10, q11, [x0, #FP_STATE_Q(10)]
    stp     q12, q13, [x0, #FP_STATE_Q(12)]
    stp     q14, q15, [x0, #FP_STATE_Q(14)]
    stp     q16, q17, [x0, #FP_STATE_Q(16)]
    stp     q18, q19, [x0, #FP_STATE_Q(18)]
    stp     q20, q21, [x0, #FP_STATE_Q(20)]
    stp     q22, q23, [x0, #FP_STATE_Q(22)]
    stp     q24, q25, [x0, #FP_STATE_Q(24)]
    stp     q26, q27, [x0, #FP_STATE_Q(26)]
    stp     q28, q29, [x0, #FP_STATE_Q(28)]
    stp     q30, q31, [x0, #FP_STATE_Q(30)]
    mrs     x1, fpsr
    mrs     x2, fpcr
    add     x0, x0, #FP_STATE_FPSR
    stp     x1, x2, [x0]
    ret

    .global fp_state_restore
fp_state_restore:
    ldp     q0, q1, [x0, #FP_STATE_Q(0)]
    ldp     q2, q3, [x0, #FP_STATE_Q(2)]
    ldp     q4, q5, [x0, #FP_STATE_Q(4)]
    ldp     q6, q7, [x0, #FP_STATE_Q(6)]
    ldp     q8, q9, [x0, #FP_STATE_Q(8)]
    ldp     q10, q11, [x0, #FP_STATE_Q(10)]
    ldp     q12, q13, [x0, #FP_STATE_Q(12)]
    ldp     q14, q15, [x0, #FP_STATE_Q(14)]
    ldp     q16, q17, [x0, #FP_STATE_Q(16)]
    ldp     q18, q19, [x0, #FP_STATE_Q(18)]
    ldp     q20, q21, [x0, #FP_STATE_Q(20)]
    ldp     q22, q23, [x0, #FP_STATE_Q(22)]
    ldp     q24, q25, [x0, #FP_STATE_Q(24)]
    ldp     q26, q27, [x0, #FP_STATE_Q(26)]
    ldp     q28, q29, [x0, #FP_STATE_Q(28)]
    ldp     q30, q31, [x0, #FP_STATE_Q(30)]
    add     x0, x0, #FP_STATE_FPSR
    ldp     x1, x2, [x0]
    msr     fpsr, x1
    msr     fpcr, x2
    ret
