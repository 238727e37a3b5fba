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
GUEST_SYSREG_READ(id_aa64pfr0_el1, id_aa64pfr0_el1)  // EL0, bits 3:0: 0b0010 = AArch64 and AArch32
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
// Self-hosted debug (Arm ARM D2, D19.3) and Guests/Kit/debug.S.
GUEST_SYSREG_RW(dbgbvr0_el1, dbgbvr0_el1)
GUEST_SYSREG_RW(dbgbcr0_el1, dbgbcr0_el1)
GUEST_SYSREG_RW(dbgwvr0_el1, dbgwvr0_el1)
GUEST_SYSREG_RW(dbgwcr0_el1, dbgwcr0_el1)
GUEST_SYSREG_RW(mdscr_el1, mdscr_el1)
GUEST_SYSREG_RW(oslar_el1, oslar_el1)
GUEST_SYSREG_RW(oslsr_el1, oslsr_el1)
GUEST_SYSREG_RW(id_aa64dfr0_el1, id_aa64dfr0_el1)
// Performance Monitors (PMUv3, Arm ARM D19.4).
GUEST_SYSREG_RW(pmcr_el0, pmcr_el0)
GUEST_SYSREG_RW(pmcntenset_el0, pmcntenset_el0)
GUEST_SYSREG_RW(pmcntenclr_el0, pmcntenclr_el0)
GUEST_SYSREG_RW(pmovsclr_el0, pmovsclr_el0)
GUEST_SYSREG_RW(pmswinc_el0, pmswinc_el0)
GUEST_SYSREG_RW(pmselr_el0, pmselr_el0)
GUEST_SYSREG_RW(pmceid0_el0, pmceid0_el0)
GUEST_SYSREG_RW(pmccntr_el0, pmccntr_el0)
GUEST_SYSREG_RW(pmxevtyper_el0, pmxevtyper_el0)
GUEST_SYSREG_RW(pmxevcntr_el0, pmxevcntr_el0)
GUEST_SYSREG_RW(pmintenset_el1, pmintenset_el1)
GUEST_SYSREG_RW(pmintenclr_el1, pmintenclr_el1)
GUEST_SYSREG_RW(pmccfiltr_el0, pmccfiltr_el0)
GUEST_SYSREG_RW(pmevcntr0_el0, pmevcntr0_el0)
GUEST_SYSREG_RW(pmevtyper0_el0, pmevtyper0_el0)
GUEST_SYSREG_RW(pmevcntr1_el0, pmevcntr1_el0)
GUEST_SYSREG_RW(pmevtyper1_el0, pmevtyper1_el0)
// `iterations` times a two-instruction loop (subs, b.ne), 0 < iterations.
static inline void pmu_loop(uint64_t iterations) {
    __asm__ volatile("1: subs %0, %0, #1\n b.ne 1b" : "+r"(iterations) :: "cc");
}
// The last debug exception taken by debug.S's vectors and how many (steps: software steps).
struct debug_record { uint64_t esr, elr, far, count, steps; };
extern volatile struct debug_record debug_record;
void debug_install_vectors(void);
uint64_t debug_target(void);
void debug_store(uint64_t address, uint64_t value);
uint64_t debug_load(uint64_t address);
void debug_brk(void);
uint64_t debug_step_run(void);
extern char debug_step_end[];
static inline void debug_unmask(void) { __asm__ volatile("msr daifclr, #8" ::: "memory"); }
static inline uint64_t debug_record_count(void) { return debug_record.count; }
static inline uint64_t debug_record_steps(void) { return debug_record.steps; }
static inline uint64_t debug_record_esr(void) { return debug_record.esr; }
static inline uint64_t debug_record_elr(void) { return debug_record.elr; }
static inline uint64_t debug_record_far(void) { return debug_record.far; }
static inline void debug_record_clear(void) { debug_record.esr = 0; debug_record.elr = 0; debug_record.far = 0; debug_record.count = 0; debug_record.steps = 0; }
extern volatile uint64_t debug_watched;
static inline uint64_t debug_watched_address(void) { return (uint64_t)&debug_watched; }
static inline uint64_t debug_step_end_address(void) { return (uint64_t)debug_step_end; }
static inline uint64_t debug_target_address(void) { return (uint64_t)&debug_target; }
static inline uint64_t debug_brk_address(void) { return (uint64_t)&debug_brk; }

// Cache geometry and maintenance by set/way (Arm ARM D7.5.9, D19.2.25 CLIDR_EL1, D19.2.24 CCSIDR_EL1).
static inline uint64_t read_clidr(void) { uint64_t v; __asm__ volatile("mrs %0, clidr_el1" : "=r"(v)); return v; }
static inline uint64_t read_ccsidr(uint64_t csselr) {
    uint64_t v; __asm__ volatile("msr csselr_el1, %1; isb; mrs %0, ccsidr_el1" : "=r"(v) : "r"(csselr) : "memory"); return v;
}
static inline uint64_t read_id_aa64mmfr2(void) { uint64_t v; __asm__ volatile("mrs %0, id_aa64mmfr2_el1" : "=r"(v)); return v; }
static inline void dc_cisw(uint64_t v) { __asm__ volatile("dc cisw, %0" :: "r"(v) : "memory"); }
// Sums `count` (> 0) 64-bit words from `address` (identity mapped, 8-byte aligned) with the
// MMU and data cache off (SCTLR_EL1.M and C clear), then turns them on again: what memory
// holds without the caches. No stack or unaligned access in between.
static inline uint64_t sum_with_caches_off(uint64_t address, uint64_t count) {
    uint64_t sctlr, off, value, sum = 0;
    __asm__ volatile(
        "mrs  %[s], sctlr_el1\n"
        "bic  %[o], %[s], #5\n"
        "dsb  sy\n"
        "msr  sctlr_el1, %[o]\n"
        "isb\n"
        "1: ldr %[v], [%[a]], #8\n"
        "add  %[sum], %[sum], %[v]\n"
        "subs %[n], %[n], #1\n"
        "b.ne 1b\n"
        "msr  sctlr_el1, %[s]\n"
        "isb\n"
        : [s] "=&r"(sctlr), [o] "=&r"(off), [v] "=&r"(value), [sum] "+r"(sum), [a] "+r"(address), [n] "+r"(count)
        :: "memory");
    return sum;
}
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

// AArch32 EL0 (Guests/Kit/aarch32.S, for Guests/aarch32): a32_setup maps RAM for EL0 at
// 0xC0000000 (+ 0x80000000 from its EL1 address) and leaves EL0's WFI to EL2; a32_run ERETs to
// `pc` in the AArch32 state `spsr` with R0, R1 and returns the vector offset of the exception that
// ended the run (a32_record: what EL1 saw then; IRQs at +0x680 are counted there and resumed
// with R0 = 1).
struct a32_record { uint64_t vector, esr, elr, spsr, far, r0, irqs, irq_elr, irq_spsr; };
extern volatile struct a32_record a32_record;
void a32_setup(void);
uint64_t a32_run(uint64_t pc, uint64_t spsr, uint64_t r0, uint64_t r1);
extern char a32_code_thumb16_wfi[], a32_code_thumb32_wfi[], a32_code_arm_wfi[], a32_code_irq_loop[], a32_code_arm_load[];
static inline uint64_t a32_el0_address(const char *code) { return (uint64_t)code + 0x80000000; }
static inline uint64_t a32_thumb16_wfi(void) { return a32_el0_address(a32_code_thumb16_wfi); }
static inline uint64_t a32_thumb32_wfi(void) { return a32_el0_address(a32_code_thumb32_wfi); }
static inline uint64_t a32_arm_wfi(void) { return a32_el0_address(a32_code_arm_wfi); }
static inline uint64_t a32_irq_loop(void) { return a32_el0_address(a32_code_irq_loop); }
static inline uint64_t a32_arm_load(void) { return a32_el0_address(a32_code_arm_load); }
static inline struct a32_record a32_last(void) { return a32_record; }
static inline void a32_clear(void) { a32_record.irqs = 0; a32_record.irq_elr = 0; a32_record.irq_spsr = 0; }

#endif
