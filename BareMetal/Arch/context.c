// EL1 system-register save/restore for a vCPU switch (the list in issue 2 section 3).
#include "arch.h"

#define SAVE(field, reg) __asm__ volatile("mrs %0, " #reg : "=r"(c->field));
#define LOAD(field, reg) __asm__ volatile("msr " #reg ", %0" :: "r"(c->field));
// Registers an EL1 name reaches from EL2 only with HCR_EL2.E2H = 0; with E2H = 1 the same name
// is an EL2 register and the guest's is the *_EL12 / *_EL02 encoding (field, E2H = 0, E2H = 1).
#define EL1_REDIRECTED(X) \
    X(sctlr, sctlr_el1, S3_5_C1_C0_0) X(ttbr0, ttbr0_el1, S3_5_C2_C0_0) X(ttbr1, ttbr1_el1, S3_5_C2_C0_1) \
    X(tcr, tcr_el1, S3_5_C2_C0_2) X(mair, mair_el1, S3_5_C10_C2_0) X(amair, amair_el1, S3_5_C10_C3_0) \
    X(vbar, vbar_el1, S3_5_C12_C0_0) X(contextidr, contextidr_el1, S3_5_C13_C0_1) X(cpacr, cpacr_el1, S3_5_C1_C0_2) \
    X(esr, esr_el1, S3_5_C5_C2_0) X(far, far_el1, S3_5_C6_C0_0) X(afsr0, afsr0_el1, S3_5_C5_C1_0) \
    X(afsr1, afsr1_el1, S3_5_C5_C1_1) X(cntkctl, cntkctl_el1, S3_5_C14_C1_0) X(elr_el1, elr_el1, S3_5_C4_C0_1) \
    X(spsr_el1, spsr_el1, S3_5_C4_C0_0) X(cntv_cval, cntv_cval_el0, S3_5_C14_C3_2)
// Registers that are the guest's under either setting.
#define EL1_SHARED(X) \
    X(tpidr_el0, tpidr_el0) X(tpidrro_el0, tpidrro_el0) X(tpidr_el1, tpidr_el1) X(par, par_el1) \
    X(csselr, csselr_el1) X(mdscr, mdscr_el1) X(sp_el0, sp_el0) X(sp_el1, sp_el1) \
    X(vmpidr, vmpidr_el2) X(vpidr, vpidr_el2)
#define SAVE_E2H0(field, el1, el12) SAVE(field, el1)
#define SAVE_E2H1(field, el1, el12) SAVE(field, el12)
#define LOAD_E2H0(field, el1, el12) LOAD(field, el1)
#define LOAD_E2H1(field, el1, el12) LOAD(field, el12)

uint64_t el2_vhe;

void el1_context_save(struct el1_context *c) {
    EL1_SHARED(SAVE)
    if (el2_vhe) {
        EL1_REDIRECTED(SAVE_E2H1)
        SAVE(cntv_ctl, S3_5_C14_C3_1)
        // Stop the outgoing vCPU's virtual timer so it cannot fire for the next one.
        __asm__ volatile("msr S3_5_C14_C3_1, xzr");
    } else {
        EL1_REDIRECTED(SAVE_E2H0)
        SAVE(cntv_ctl, cntv_ctl_el0)
        __asm__ volatile("msr cntv_ctl_el0, xzr");
    }
}

void el1_context_restore(const struct el1_context *c) {
    EL1_SHARED(LOAD)
    if (el2_vhe) {
        EL1_REDIRECTED(LOAD_E2H1)
        LOAD(cntv_ctl, S3_5_C14_C3_1)
    } else {
        EL1_REDIRECTED(LOAD_E2H0)
        LOAD(cntv_ctl, cntv_ctl_el0)
    }
    __asm__ volatile("isb");
}

volatile uint32_t hypervisor_lock_word;
uint8_t console_ring_bytes[CONSOLE_RING_SIZE];
struct console_ring_counters console_ring_counters;
volatile uint32_t console_drain_owner;
struct secondary_boot secondary_boot_data;
