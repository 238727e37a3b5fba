// EL1 system-register save/restore for a vCPU switch (the list in issue 2 section 3).
#include "arch.h"

#define SAVE(field, reg) __asm__ volatile("mrs %0, " #reg : "=r"(c->field));
#define LOAD(field, reg) __asm__ volatile("msr " #reg ", %0" :: "r"(c->field));
#define EL1_REGISTERS(X) \
    X(sctlr, sctlr_el1) X(ttbr0, ttbr0_el1) X(ttbr1, ttbr1_el1) X(tcr, tcr_el1) \
    X(mair, mair_el1) X(amair, amair_el1) X(vbar, vbar_el1) X(contextidr, contextidr_el1) \
    X(tpidr_el0, tpidr_el0) X(tpidrro_el0, tpidrro_el0) X(tpidr_el1, tpidr_el1) X(cpacr, cpacr_el1) \
    X(esr, esr_el1) X(far, far_el1) X(afsr0, afsr0_el1) X(afsr1, afsr1_el1) X(par, par_el1) \
    X(cntkctl, cntkctl_el1) X(csselr, csselr_el1) X(mdscr, mdscr_el1) X(sp_el0, sp_el0) \
    X(sp_el1, sp_el1) X(elr_el1, elr_el1) X(spsr_el1, spsr_el1) X(cntv_cval, cntv_cval_el0) \
    X(vmpidr, vmpidr_el2) X(vpidr, vpidr_el2)

void el1_context_save(struct el1_context *c) {
    EL1_REGISTERS(SAVE)
    SAVE(cntv_ctl, cntv_ctl_el0)
    // Stop the outgoing vCPU's virtual timer so it cannot fire for the next one.
    __asm__ volatile("msr cntv_ctl_el0, xzr");
}

void el1_context_restore(const struct el1_context *c) {
    EL1_REGISTERS(LOAD)
    LOAD(cntv_ctl, cntv_ctl_el0)
    __asm__ volatile("isb");
}

volatile uint32_t hypervisor_lock_word;
struct secondary_boot secondary_boot_data;
