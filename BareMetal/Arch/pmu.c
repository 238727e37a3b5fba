// The PMU's registers for a vCPU switch (PMUv3, Arm ARM D11, D19.4). Event counters are
// reached through PMSELR_EL0.SEL and PMXEVCNTR/PMXEVTYPER (D19.4.17), so one loop covers any N.
#include "arch.h"

#define MRS(reg, v) __asm__ volatile("mrs %0, " #reg : "=r"(v))
#define MSR(reg, v) __asm__ volatile("msr " #reg ", %0" :: "r"((uint64_t)(v)))
#define ISB() __asm__ volatile("isb" ::: "memory")

static inline void select_counter(unsigned n) { MSR(pmselr_el0, n); ISB(); }

uint64_t pmu_event_counter(unsigned n) {
    uint64_t sel, v; MRS(pmselr_el0, sel); select_counter(n); MRS(pmxevcntr_el0, v); MSR(pmselr_el0, sel); return v;
}
void pmu_set_event_counter(unsigned n, uint64_t v) {
    uint64_t sel; MRS(pmselr_el0, sel); select_counter(n); MSR(pmxevcntr_el0, v); MSR(pmselr_el0, sel); ISB();
}
uint64_t pmu_event_type(unsigned n) {
    uint64_t sel, v; MRS(pmselr_el0, sel); select_counter(n); MRS(pmxevtyper_el0, v); MSR(pmselr_el0, sel); return v;
}
void pmu_set_event_type(unsigned n, uint64_t v) {
    uint64_t sel; MRS(pmselr_el0, sel); select_counter(n); MSR(pmxevtyper_el0, v); MSR(pmselr_el0, sel); ISB();
}

void pmu_stop(void) {
    uint64_t pmcr; MRS(pmcr_el0, pmcr);
    MSR(pmcr_el0, pmcr & ~1ull);          // E = 0: no counter counts
    MSR(pmcntenclr_el0, ~0ull);
    MSR(pmintenclr_el1, ~0ull);           // no overflow interrupt
    MSR(pmovsclr_el0, ~0ull);
    ISB();
}

void pmu_save(struct pmu_state *s, unsigned counters) {
    MRS(pmcr_el0, s->pmcr); MRS(pmcntenset_el0, s->cntenset); MRS(pmovsclr_el0, s->ovsset);
    MRS(pmselr_el0, s->selr); MRS(pmuserenr_el0, s->userenr); MRS(pmccfiltr_el0, s->ccfiltr);
    MSR(pmcr_el0, s->pmcr & ~1ull); ISB();  // stop, then read the counters
    MRS(pmccntr_el0, s->ccntr);
    for (unsigned n = 0; n < counters && n < 31; n++) {
        select_counter(n); MRS(pmxevcntr_el0, s->evcntr[n]); MRS(pmxevtyper_el0, s->evtyper[n]);
    }
    MSR(pmcntenclr_el0, ~0ull); MSR(pmintenclr_el1, ~0ull); MSR(pmovsclr_el0, ~0ull);
    ISB();
}

void pmu_load(const struct pmu_state *s, unsigned counters) {
    MSR(pmcr_el0, s->pmcr & ~1ull); ISB();
    for (unsigned n = 0; n < counters && n < 31; n++) {
        select_counter(n); MSR(pmxevtyper_el0, s->evtyper[n]); MSR(pmxevcntr_el0, s->evcntr[n]);
    }
    MSR(pmselr_el0, s->selr); MSR(pmccfiltr_el0, s->ccfiltr); MSR(pmccntr_el0, s->ccntr);
    MSR(pmuserenr_el0, s->userenr);
    MSR(pmcntenclr_el0, ~s->cntenset); MSR(pmcntenset_el0, s->cntenset);
    MSR(pmovsclr_el0, ~s->ovsset); MSR(pmovsset_el0, s->ovsset);
    MSR(pmintenclr_el1, ~s->intenset); MSR(pmintenset_el1, s->intenset);
    ISB();
    MSR(pmcr_el0, s->pmcr & 0x7F);        // last: E as the guest left it (the writable bits)
    ISB();
}
