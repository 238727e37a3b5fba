// The few instructions a test guest needs that Swift cannot express.
#ifndef SWIFTVISOR_GUEST_H
#define SWIFTVISOR_GUEST_H
#include <stdint.h>

// Xen hypercall: hvc #0xEA1, number in x16, arguments x0-x2, result in x0.
static inline int64_t xen_hypercall(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2) {
    register uint64_t x0 __asm__("x0") = a0, x1 __asm__("x1") = a1, x2 __asm__("x2") = a2;
    register uint64_t x16 __asm__("x16") = number;
    __asm__ volatile("hvc #0xEA1" : "+r"(x0), "+r"(x1), "+r"(x2) : "r"(x16) : "memory");
    return (int64_t)x0;
}

// SMCCC call with hvc #0 or smc #0.
static inline int64_t smccc_hvc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 __asm__("x0") = fid, x1 __asm__("x1") = a1, x2 __asm__("x2") = a2, x3 __asm__("x3") = a3;
    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
    return (int64_t)x0;
}
static inline int64_t smccc_smc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 __asm__("x0") = fid, x1 __asm__("x1") = a1, x2 __asm__("x2") = a2, x3 __asm__("x3") = a3;
    __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
    return (int64_t)x0;
}
// An HVC with an immediate no ABI uses.
static inline int64_t hvc_unknown_immediate(void) {
    register uint64_t x0 __asm__("x0") = 0x84000000;
    __asm__ volatile("hvc #0x1234" : "+r"(x0) :: "memory");
    return (int64_t)x0;
}

// Guests/traps: registers a guest must not learn host facts from or use (issue 11 §2).
#define GUEST_SYSREG_READ(name, enc) \
    static inline uint64_t read_##name(void) { uint64_t v = 0; __asm__ volatile("mrs %0, " #enc : "+r"(v) :: "memory"); return v; }
GUEST_SYSREG_READ(l2ctlr_el1, S3_1_C11_C0_2)     // Cortex-A57/A72 IMPLEMENTATION DEFINED: core count
GUEST_SYSREG_READ(l2ectlr_el1, S3_1_C11_C0_3)
GUEST_SYSREG_READ(cpuactlr_el1, S3_1_C15_C2_0)
GUEST_SYSREG_READ(cpuectlr_el1, S3_1_C15_C2_1)
GUEST_SYSREG_READ(cbar_el1, S3_1_C15_C3_0)       // physical GIC base
GUEST_SYSREG_READ(lorid_el1, S3_0_C10_C4_7)      // FEAT_LOR (HCR_EL2.TLOR)
GUEST_SYSREG_READ(erridr_el1, S3_0_C5_C3_0)      // FEAT_RAS error records (HCR_EL2.TERR)
GUEST_SYSREG_READ(trfcr_el1, S3_0_C1_C2_1)       // FEAT_TRF (MDCR_EL2.TTRF)
GUEST_SYSREG_READ(id_aa64mmfr1_el1, id_aa64mmfr1_el1)
GUEST_SYSREG_READ(id_aa64isar2_el1, S3_0_C0_C6_2)  // WFxT, bits 3:0
// WFIT x0 (FEAT_WFxT; encoded by hand for assemblers without it): WFI until CNTVCT_EL0 >= timeout.
static inline void guest_wfit(uint64_t timeout) {
    register uint64_t x0 __asm__("x0") = timeout;
    __asm__ volatile(".inst 0xd5031020" :: "r"(x0) : "memory");
}
static inline void dc_civac(uint64_t address) { __asm__ volatile("dc civac, %0" :: "r"(address) : "memory"); }

static inline uint64_t read_cntvct(void) { uint64_t v; __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)); return v; }
static inline void dsb_ish(void) { __asm__ volatile("dsb ish" ::: "memory"); }
static inline uint64_t read_cntfrq(void) { uint64_t v; __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v)); return v; }
static inline uint64_t read_mpidr(void) { uint64_t v; __asm__ volatile("mrs %0, mpidr_el1" : "=r"(v)); return v; }

// Accesses that may fault: the kit's exception vector records the fault and skips them.
static inline uint64_t probe_read64(uint64_t address) {
    uint64_t v = 0; __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(address) : "memory"); return v;
}
static inline void probe_write64(uint64_t address, uint64_t value) {
    __asm__ volatile("str %0, [%1]" :: "r"(value), "r"(address) : "memory");
}
// A load pair: no instruction syndrome (ESR ISV=0) when it faults at stage 2.
static inline uint64_t probe_read_pair(uint64_t address) {
    uint64_t a = 0, b = 0; __asm__ volatile("ldp %0, %1, [%2]" : "+r"(a), "+r"(b) : "r"(address) : "memory"); return a ^ b;
}
// Registers the hypervisor traps: the PMU (MDCR_EL2.TPM, read as zero), an ID register
// (HCR_EL2.TID3, sanitised), a Group 0 SGI (HCR_EL2.FMO, not virtualised: undefined).
static inline uint64_t read_pmcr(void) { uint64_t v = 0; __asm__ volatile("mrs %0, pmcr_el0" : "+r"(v) :: "memory"); return v; }
static inline uint64_t read_id_aa64dfr0(void) { uint64_t v; __asm__ volatile("mrs %0, id_aa64dfr0_el1" : "=r"(v) :: "memory"); return v; }
static inline void write_icc_sgi0r(uint64_t v) { __asm__ volatile("msr S3_0_C12_C11_7, %0" :: "r"(v) : "memory"); }

// Loops for the benchmarks: `count` round trips of one kind, nothing else in the loop body.
uint64_t bench_xen_version(uint64_t count);
uint64_t bench_psci_version(uint64_t count);
uint64_t bench_mmio_read(uint64_t count, uint64_t address);
uint64_t bench_empty(uint64_t count);
uint64_t bench_evtchn_send(uint64_t count, uint64_t send, uint64_t shared_info);
uint64_t bench_evtchn_clear_only(uint64_t count, uint64_t send, uint64_t shared_info);

void guest_mmu_off(void);
void spin_forever_masked(void) __attribute__((noreturn));
// Removes the exception vectors (VBAR_EL1 = 0), then branches to `address`.
void crash_at(uint64_t address) __attribute__((noreturn));

// Set by the kit's vector while a probe is under way: the fault's ESR_EL1 (0 if none).
// Accessed only through these functions: Swift does not honour C's volatile.
extern volatile uint64_t probe_fault_esr;
extern volatile uint64_t probe_armed;
static inline void probe_begin(void) {
    probe_fault_esr = 0; probe_armed = 1; __asm__ volatile("" ::: "memory");
}
static inline uint64_t probe_end(void) {
    __asm__ volatile("" ::: "memory"); probe_armed = 0; return probe_fault_esr;
}

// GICv3 CPU interface and the EL1 timers, as a guest kernel uses them.
#define GUEST_SYSREG_RW(name, enc) \
    static inline uint64_t read_##name(void) { uint64_t v; __asm__ volatile("mrs %0, " #enc : "=r"(v) :: "memory"); return v; } \
    static inline void write_##name(uint64_t v) { __asm__ volatile("msr " #enc ", %0; isb" :: "r"(v) : "memory"); }
GUEST_SYSREG_RW(icc_sre_el1, S3_0_C12_C12_5)
GUEST_SYSREG_RW(icc_pmr_el1, S3_0_C4_C6_0)
GUEST_SYSREG_RW(icc_igrpen1_el1, S3_0_C12_C12_7)
GUEST_SYSREG_RW(icc_iar1_el1, S3_0_C12_C12_0)
GUEST_SYSREG_RW(icc_eoir1_el1, S3_0_C12_C12_1)
GUEST_SYSREG_RW(icc_sgi1r_el1, S3_0_C12_C11_5)
GUEST_SYSREG_RW(cntv_ctl_el0, cntv_ctl_el0)
GUEST_SYSREG_RW(cntv_tval_el0, cntv_tval_el0)
GUEST_SYSREG_RW(cntp_ctl_el0, cntp_ctl_el0)
GUEST_SYSREG_RW(cntp_tval_el0, cntp_tval_el0)
GUEST_SYSREG_RW(cntv_cval_el0, cntv_cval_el0)
GUEST_SYSREG_RW(cntp_cval_el0, cntp_cval_el0)
static inline uint64_t read_cntpct(void) { uint64_t v; __asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(v)); return v; }
static inline void irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void guest_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void memory_barrier(void) { __asm__ volatile("dmb ish" ::: "memory"); }

// Secondary vCPUs start here (PSCI CPU_ON entry) with x0 = their stack top; they set up the
// same vectors and memory map as vCPU 0, then call guest_secondary_main(mpidr).
void secondary_entry(void);
// Words shared with the hypervisor (Xen's shared_info, vcpu_info), changed atomically as
// Linux does (LDXR/STXR or LSE), addressed by their (identity-mapped) address.
static inline uint64_t shared_xchg64(uint64_t address, uint64_t value) {
    return __atomic_exchange_n((uint64_t *)address, value, __ATOMIC_SEQ_CST);
}
static inline uint64_t shared_fetch_and64(uint64_t address, uint64_t bits) {
    return __atomic_fetch_and((uint64_t *)address, bits, __ATOMIC_SEQ_CST);
}
static inline uint64_t shared_fetch_or64(uint64_t address, uint64_t bits) {
    return __atomic_fetch_or((uint64_t *)address, bits, __ATOMIC_SEQ_CST);
}
static inline uint64_t shared_load64(uint64_t address) { return __atomic_load_n((uint64_t *)address, __ATOMIC_ACQUIRE); }
static inline uint32_t shared_load32(uint64_t address) { return __atomic_load_n((uint32_t *)address, __ATOMIC_ACQUIRE); }
static inline void shared_store8(uint64_t address, uint8_t value) { __atomic_store_n((uint8_t *)address, value, __ATOMIC_RELEASE); }

#endif
