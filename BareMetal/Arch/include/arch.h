// swiftvisor's only window onto the hardware: system registers, barriers, TLB and address
// translation instructions, the exception-entry register frame. Everything is a small inline
// function so that Swift calls compile to the single instruction.
#ifndef SWIFTVISOR_ARCH_H
#define SWIFTVISOR_ARCH_H
#include <stdint.h>
#include "frame_layout.h"

// General-purpose registers of a vCPU as exception entry saves them (vectors.S uses the
// offsets in frame_layout.h: x[n] at 8n, elr at 248, spsr at 256).
struct vcpu_frame {
    uint64_t x[31];
    uint64_t elr_el2;
    uint64_t spsr_el2;
    uint64_t pad;
};
_Static_assert(__builtin_offsetof(struct vcpu_frame, x) == FRAME_X(0), "vectors.S: x0 at FRAME_X(0)");
_Static_assert(__builtin_offsetof(struct vcpu_frame, x[29]) == FRAME_X(29), "vectors.S: x[n] at FRAME_X(n)");
_Static_assert(__builtin_offsetof(struct vcpu_frame, x[30]) == FRAME_LR, "vectors.S: x30 at FRAME_LR");
_Static_assert(__builtin_offsetof(struct vcpu_frame, elr_el2) == FRAME_ELR, "vectors.S: elr_el2 at FRAME_ELR");
_Static_assert(FRAME_ELR == FRAME_LR + 8, "vectors.S stores x30 and elr_el2 as a pair");
_Static_assert(__builtin_offsetof(struct vcpu_frame, spsr_el2) == FRAME_SPSR, "vectors.S: spsr_el2 at FRAME_SPSR");
_Static_assert(sizeof(struct vcpu_frame) == FRAME_SIZE, "vectors.S: a frame on the stack is FRAME_SIZE bytes");
_Static_assert(FRAME_SIZE % 16 == 0, "SP stays 16-byte aligned (Arm ARM D1.8.2)");

// Per-core exit context; TPIDR_EL2 points at it. vectors.S reads `frame` (offset 0).
struct core_context {
    struct vcpu_frame *frame;   // the vCPU running on this core
    uint64_t core;              // index of this core
    // Console output (ConsoleOutput.swift): the ring position just past the last byte this
    // core appended (its mark), and whether any of its bytes may still wait (the exit path's
    // whole cost when it printed nothing: one load). Only this core touches them.
    uint64_t console_mark;
    uint64_t console_waiting;
};
_Static_assert(__builtin_offsetof(struct core_context, frame) == CORE_CONTEXT_FRAME, "vectors.S: frame at CORE_CONTEXT_FRAME");

// EL1 and EL0 state a guest kernel owns, switched only when another vCPU runs on this core.
struct el1_context {
    uint64_t sctlr, ttbr0, ttbr1, tcr, mair, amair, vbar, contextidr;
    uint64_t tpidr_el0, tpidrro_el0, tpidr_el1, cpacr, esr, far, afsr0, afsr1;
    uint64_t par, cntkctl, csselr, mdscr, sp_el0, sp_el1, elr_el1, spsr_el1;
    uint64_t cntv_ctl, cntv_cval, vmpidr, vpidr;
};

// FP/SIMD state: V0-V31, FPSR, FPCR (fpsimd.S).
struct fp_state {
    uint64_t v[64];
    uint64_t fpsr, fpcr;
};
_Static_assert(__builtin_offsetof(struct fp_state, v) == FP_STATE_Q(0), "fpsimd.S: Qn at FP_STATE_Q(n)");
_Static_assert(__builtin_offsetof(struct fp_state, v[62]) == FP_STATE_Q(31), "fpsimd.S: Q31 at FP_STATE_Q(31)");
_Static_assert(__builtin_offsetof(struct fp_state, fpsr) == FP_STATE_FPSR, "fpsimd.S: fpsr at FP_STATE_FPSR");
_Static_assert(__builtin_offsetof(struct fp_state, fpcr) == FP_STATE_FPSR + 8, "fpsimd.S stores fpsr and fpcr as a pair");

#define SYSREG_READ(name) \
    static inline uint64_t read_##name(void) { uint64_t v; __asm__ volatile("mrs %0, " #name : "=r"(v)); return v; }
#define SYSREG_WRITE(name) \
    static inline void write_##name(uint64_t v) { __asm__ volatile("msr " #name ", %0" :: "r"(v)); }
#define SYSREG_RW(name) SYSREG_READ(name) SYSREG_WRITE(name)

SYSREG_READ(CurrentEL)
SYSREG_READ(midr_el1) SYSREG_READ(mpidr_el1)
SYSREG_READ(id_aa64mmfr0_el1) SYSREG_READ(id_aa64mmfr1_el1) SYSREG_READ(id_aa64pfr0_el1)
SYSREG_READ(ctr_el0)
SYSREG_RW(esr_el2) SYSREG_RW(far_el2) SYSREG_READ(hpfar_el2) SYSREG_RW(elr_el2) SYSREG_RW(spsr_el2)
SYSREG_RW(hcr_el2) SYSREG_RW(vtcr_el2) SYSREG_RW(vttbr_el2) SYSREG_RW(vbar_el2)
SYSREG_RW(tcr_el2) SYSREG_RW(ttbr0_el2) SYSREG_RW(mair_el2) SYSREG_RW(sctlr_el2)
SYSREG_RW(cptr_el2) SYSREG_RW(mdcr_el2) SYSREG_RW(cnthctl_el2) SYSREG_RW(cntvoff_el2)
SYSREG_RW(cnthp_ctl_el2) SYSREG_RW(cnthp_cval_el2) SYSREG_RW(tpidr_el2)
SYSREG_RW(vmpidr_el2) SYSREG_RW(vpidr_el2)
SYSREG_READ(cntpct_el0) SYSREG_READ(cntfrq_el0) SYSREG_READ(pmcr_el0)
SYSREG_RW(par_el1)
// ISR_EL1 at EL2: the physical A, I, F interrupts pending (Arm ARM D19.2.80), masked or not.
SYSREG_READ(isr_el1)

// EL2 regime, set once at boot before any guest state is touched (EL2Mode.swift): 0 with
// HCR_EL2.E2H = 0, 1 with E2H = 1. With E2H = 1 the EL1 names at EL2 reach EL2's own
// registers, so the loaded guest's are reached through the *_EL12 / *_EL02 encodings
// (Arm ARM D5.6, "Register redirection"; encodings as Linux's asm/sysreg.h).
extern uint64_t el2_vhe;
#define GUEST_SYSREG(name, el1, el12) \
    static inline uint64_t read_guest_##name(void) { uint64_t v; \
        if (el2_vhe) __asm__ volatile("mrs %0, " #el12 : "=r"(v)); else __asm__ volatile("mrs %0, " #el1 : "=r"(v)); return v; } \
    static inline void write_guest_##name(uint64_t v) { \
        if (el2_vhe) __asm__ volatile("msr " #el12 ", %0" :: "r"(v)); else __asm__ volatile("msr " #el1 ", %0" :: "r"(v)); }
// The loaded guest's exception registers, for injecting an exception into it.
GUEST_SYSREG(esr_el1, esr_el1, S3_5_C5_C2_0)      // ESR_EL12
GUEST_SYSREG(far_el1, far_el1, S3_5_C6_C0_0)      // FAR_EL12
GUEST_SYSREG(elr_el1, elr_el1, S3_5_C4_C0_1)      // ELR_EL12
GUEST_SYSREG(spsr_el1, spsr_el1, S3_5_C4_C0_0)    // SPSR_EL12
GUEST_SYSREG(vbar_el1, vbar_el1, S3_5_C12_C0_0)   // VBAR_EL12
GUEST_SYSREG(sctlr_el1, sctlr_el1, S3_5_C1_C0_0)  // SCTLR_EL12
// The rest of the EL1 virtual memory controls, written for a guest while HCR_EL2.TVM traps them.
GUEST_SYSREG(ttbr0_el1, ttbr0_el1, S3_5_C2_C0_0)  // TTBR0_EL12
GUEST_SYSREG(ttbr1_el1, ttbr1_el1, S3_5_C2_C0_1)  // TTBR1_EL12
GUEST_SYSREG(tcr_el1, tcr_el1, S3_5_C2_C0_2)      // TCR_EL12
GUEST_SYSREG(mair_el1, mair_el1, S3_5_C10_C2_0)   // MAIR_EL12
GUEST_SYSREG(amair_el1, amair_el1, S3_5_C10_C3_0) // AMAIR_EL12
GUEST_SYSREG(contextidr_el1, contextidr_el1, S3_5_C13_C0_1)  // CONTEXTIDR_EL12
GUEST_SYSREG(afsr0_el1, afsr0_el1, S3_5_C5_C1_0)  // AFSR0_EL12
GUEST_SYSREG(afsr1_el1, afsr1_el1, S3_5_C5_C1_1)  // AFSR1_EL12
// The loaded vCPU's virtual timer (Arm ARM D11.2.4), masked when it fires at EL2. With E2H = 1
// CNTV_CTL_EL0 at EL2 is the EL2 virtual timer (CNTHV_CTL_EL2), not the guest's.
GUEST_SYSREG(cntv_ctl_el0, cntv_ctl_el0, S3_5_C14_C3_1)   // CNTV_CTL_EL02
// GICv3 CPU interface, by encoding so any assembler accepts them (Arm GIC spec 12.2).
static inline void write_icc_sre_el2(uint64_t v) { __asm__ volatile("msr S3_4_C12_C9_5, %0; isb" :: "r"(v)); }
static inline uint64_t read_icc_iar1_el1(void) { uint64_t v; __asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(v)); return v; }
static inline void write_icc_eoir1_el1(uint64_t v) { __asm__ volatile("msr S3_0_C12_C12_1, %0" :: "r"(v)); }
static inline void write_icc_pmr_el1(uint64_t v) { __asm__ volatile("msr S3_0_C4_C6_0, %0" :: "r"(v)); }
static inline void write_icc_ctlr_el1(uint64_t v) { __asm__ volatile("msr S3_0_C12_C12_4, %0" :: "r"(v)); }
static inline void write_icc_igrpen1_el1(uint64_t v) { __asm__ volatile("msr S3_0_C12_C12_7, %0; isb" :: "r"(v)); }
static inline void write_ich_hcr_el2(uint64_t v) { __asm__ volatile("msr S3_4_C12_C11_0, %0" :: "r"(v)); }
static inline uint64_t read_ich_vtr_el2(void) { uint64_t v; __asm__ volatile("mrs %0, S3_4_C12_C11_1" : "=r"(v)); return v; }
static inline uint64_t read_ich_misr_el2(void) { uint64_t v; __asm__ volatile("mrs %0, S3_4_C12_C11_2" : "=r"(v)); return v; }
static inline uint64_t read_ich_vmcr_el2(void) { uint64_t v; __asm__ volatile("mrs %0, S3_4_C12_C11_7" : "=r"(v)); return v; }
static inline void write_ich_vmcr_el2(uint64_t v) { __asm__ volatile("msr S3_4_C12_C11_7, %0" :: "r"(v)); }
static inline uint64_t read_ich_ap0r0_el2(void) { uint64_t v; __asm__ volatile("mrs %0, S3_4_C12_C8_0" : "=r"(v)); return v; }
static inline void write_ich_ap0r0_el2(uint64_t v) { __asm__ volatile("msr S3_4_C12_C8_0, %0" :: "r"(v)); }
static inline uint64_t read_ich_ap1r0_el2(void) { uint64_t v; __asm__ volatile("mrs %0, S3_4_C12_C9_0" : "=r"(v)); return v; }
static inline void write_ich_ap1r0_el2(uint64_t v) { __asm__ volatile("msr S3_4_C12_C9_0, %0" :: "r"(v)); }

// ICH_LR<n>_EL2: LR0-7 are S3_4_C12_C12_<n>, LR8-15 S3_4_C12_C13_<n-8> (IHI0069 12.4.6).
#define ICH_LR_CASE(n, crm, op2) \
    case n: if (write) __asm__ volatile("msr S3_4_C12_" #crm "_" #op2 ", %0" :: "r"(value)); \
            else __asm__ volatile("mrs %0, S3_4_C12_" #crm "_" #op2 : "=r"(value)); break;
static inline uint64_t ich_lr_access(int n, int write, uint64_t value) {
    switch (n) {
        ICH_LR_CASE(0, C12, 0) ICH_LR_CASE(1, C12, 1) ICH_LR_CASE(2, C12, 2) ICH_LR_CASE(3, C12, 3)
        ICH_LR_CASE(4, C12, 4) ICH_LR_CASE(5, C12, 5) ICH_LR_CASE(6, C12, 6) ICH_LR_CASE(7, C12, 7)
        ICH_LR_CASE(8, C13, 0) ICH_LR_CASE(9, C13, 1) ICH_LR_CASE(10, C13, 2) ICH_LR_CASE(11, C13, 3)
        ICH_LR_CASE(12, C13, 4) ICH_LR_CASE(13, C13, 5) ICH_LR_CASE(14, C13, 6) ICH_LR_CASE(15, C13, 7)
    }
    return value;
}
static inline uint64_t read_ich_lr(int n) { return ich_lr_access(n, 0, 0); }
static inline void write_ich_lr(int n, uint64_t v) { ich_lr_access(n, 1, v); }

// The hardware's ID register S3_0_C0_C<crm>_<op2> (crm 1-7), for sanitised guest reads.
#define ID_CASE(crm, op2) case (crm) * 8 + (op2): __asm__ volatile("mrs %0, S3_0_C0_C" #crm "_" #op2 : "=r"(v)); break;
#define ID_ROW(crm) ID_CASE(crm, 0) ID_CASE(crm, 1) ID_CASE(crm, 2) ID_CASE(crm, 3) \
                    ID_CASE(crm, 4) ID_CASE(crm, 5) ID_CASE(crm, 6) ID_CASE(crm, 7)
static inline uint64_t read_id_register(unsigned crm, unsigned op2) {
    uint64_t v = 0;
    switch (crm * 8 + op2) { ID_ROW(1) ID_ROW(2) ID_ROW(3) ID_ROW(4) ID_ROW(5) ID_ROW(6) ID_ROW(7) }
    return v;
}
SYSREG_RW(mdscr_el1)
SYSREG_READ(id_aa64dfr0_el1)

// A vCPU's breakpoint and watchpoint registers (DBGBVR/DBGBCR/DBGWVR/DBGWCR<n>_EL1, n < 16:
// Arm ARM D19.3), switched with it (debug_registers.c).
struct debug_registers {
    uint64_t bvr[16], bcr[16], wvr[16], wcr[16];
};
// kind: 4 DBGBVR, 5 DBGBCR, 6 DBGWVR, 7 DBGWCR (the encoding's op2); n < 16.
void debug_register_write(unsigned kind, unsigned n, uint64_t value);
// Loads the first `breakpoints` and `watchpoints` of each (NULL: zeroes them all, disabling them).
void debug_registers_load(const struct debug_registers *r, unsigned breakpoints, unsigned watchpoints);
// A vCPU's PMU state (PMUv3, Arm ARM D19.4), switched with it (pmu.c).
struct pmu_state {
    uint64_t pmcr, cntenset, intenset, ovsset, selr, userenr, ccntr, ccfiltr;
    uint64_t evcntr[31], evtyper[31];
};
// Saves the live PMU into `s` (its first `counters` event counters), then stops it: nothing
// counts and no overflow interrupt is raised until the next pmu_load.
void pmu_save(struct pmu_state *s, unsigned counters);
void pmu_load(const struct pmu_state *s, unsigned counters);
void pmu_stop(void);
// PMEVCNTR<n>_EL0 / PMEVTYPER<n>_EL0 through PMSELR_EL0 (which is kept).
uint64_t pmu_event_counter(unsigned n);
void pmu_set_event_counter(unsigned n, uint64_t v);
uint64_t pmu_event_type(unsigned n);
void pmu_set_event_type(unsigned n, uint64_t v);
SYSREG_WRITE(pmcr_el0)
SYSREG_RW(pmcntenset_el0) SYSREG_WRITE(pmcntenclr_el0) SYSREG_RW(pmovsclr_el0) SYSREG_WRITE(pmovsset_el0)
SYSREG_WRITE(pmswinc_el0) SYSREG_RW(pmselr_el0) SYSREG_READ(pmceid0_el0) SYSREG_READ(pmceid1_el0)
SYSREG_RW(pmccntr_el0) SYSREG_RW(pmuserenr_el0) SYSREG_RW(pmintenset_el1) SYSREG_WRITE(pmintenclr_el1)
SYSREG_RW(pmccfiltr_el0)

// OSLAR_EL1 (Arm ARM D19.3.31): 1 locks, 0 unlocks the OS lock; OSDLR_EL1.DLK (D19.3.29).
static inline void write_oslar_el1(uint64_t v) { __asm__ volatile("msr oslar_el1, %0" :: "r"(v)); }
static inline void write_osdlr_el1(uint64_t v) { __asm__ volatile("msr osdlr_el1, %0" :: "r"(v)); }

// Clean and invalidate [start, start+size) to the Point of Coherency by VA (Arm ARM D7.5.9):
// what a guest's set/way maintenance must achieve for its memory.
static inline void clean_invalidate_dcache_to_poc(uint64_t start, uint64_t size) {
    uint64_t line = 4ull << ((read_ctr_el0() >> 16) & 0xF);
    for (uint64_t a = start & ~(line - 1); a < start + size; a += line) __asm__ volatile("dc civac, %0" :: "r"(a) : "memory");
    __asm__ volatile("dsb ish" ::: "memory");
}


static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void dsb_ish(void) { __asm__ volatile("dsb ish" ::: "memory"); }
static inline void dsb_sy(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void wait_for_interrupt(void) { __asm__ volatile("wfi" ::: "memory"); }

// TLB maintenance (Arm ARM D8.13): whole EL2 regime; stage 1+2 of the current VMID.
static inline void tlbi_alle2(void) { __asm__ volatile("dsb ishst; tlbi alle2; dsb ish; isb" ::: "memory"); }
static inline void tlbi_vmalls12e1is(void) { __asm__ volatile("dsb ishst; tlbi vmalls12e1is; dsb ish; isb" ::: "memory"); }
// Stage-1 entries of the current VMID on this core only: another vCPU of the same VM ran here.
static inline void tlbi_vmalle1(void) { __asm__ volatile("dsb nshst; tlbi vmalle1; dsb nsh; isb" ::: "memory"); }

// A running VM's stage 2 changed at `ipa` (break-before-make, Arm ARM D8.14.1): that IPA's
// stage-2 entries, and every stage-1 entry of the VMID (they may combine with the old one),
// go on every core of the Inner Shareable domain (D8.13), as Xen's p2m_force_tlb_flush_sync
// and KVM's __tlb_switch_to_guest do. The TLBIs act on the VMID in VTTBR_EL2, so the VM's is
// loaded for them; with E2H = 1 they reach the EL1&0 regime only while HCR_EL2.TGE = 0
// (swiftvisor never sets it; cleared here anyway, as KVM does). TLBI IPAS2E1IS takes IPA[47:12].
static inline void stage2_invalidate_ipa(uint64_t vttbr, uint64_t ipa) {
    const uint64_t tge = 1ull << 27;
    uint64_t saved_vttbr = read_vttbr_el2(), hcr = read_hcr_el2();
    if (hcr & tge) write_hcr_el2(hcr & ~tge);
    write_vttbr_el2(vttbr);
    __asm__ volatile("isb; dsb ishst; tlbi ipas2e1is, %0; dsb ish; tlbi vmalle1is; dsb ish; isb"
                     :: "r"(ipa >> 12) : "memory");
    write_vttbr_el2(saved_vttbr);
    if (hcr & tge) write_hcr_el2(hcr);
    isb();
}

// Grant entries live in guest-shared memory that the granter changes concurrently: atomic
// accesses only (Xen's guest_cmpxchg / guest_clear_mask16). Normal memory, identity mapped.
static inline uint32_t guest_atomic_load32(uint64_t address) {
    return __atomic_load_n((volatile uint32_t *)address, __ATOMIC_ACQUIRE);
}
// Stores `desired` if the word holds `expected`; returns what it held.
static inline uint32_t guest_compare_exchange32(uint64_t address, uint32_t expected, uint32_t desired) {
    __atomic_compare_exchange_n((volatile uint32_t *)address, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
static inline void guest_atomic_store32(uint64_t address, uint32_t value) {
    __atomic_store_n((volatile uint32_t *)address, value, __ATOMIC_RELEASE);
}
static inline void guest_atomic_clear16(uint64_t address, uint16_t mask) {
    __atomic_fetch_and((volatile uint16_t *)address, (uint16_t)~mask, __ATOMIC_SEQ_CST);
}

// The hypervisor lock: one spin lock around all shared state (Arm ARM K13, load-acquire
// exclusive / store-release; WFE while it is held elsewhere).
extern volatile uint32_t hypervisor_lock_word;
static inline void hypervisor_lock(void) {
    uint32_t busy, failed;
    __asm__ volatile(
        "   sevl\n"
        "1: wfe\n"
        "2: ldaxr %w0, [%2]\n"
        "   cbnz  %w0, 1b\n"
        "   stxr  %w1, %w3, [%2]\n"
        "   cbnz  %w1, 2b\n"
        : "=&r"(busy), "=&r"(failed) : "r"(&hypervisor_lock_word), "r"(1) : "memory");
}
static inline void hypervisor_unlock(void) {
    __asm__ volatile("stlr wzr, [%0]" :: "r"(&hypervisor_lock_word) : "memory");
}

// The console output ring (ConsoleOutputRing, Console.swift): bytes appended under the
// hypervisor lock, sent to the UART without it by the holder of the drain flag (0: free, else
// the holding core's index + 1). Counters run free; acquire/release as a SPSC ring.
#define CONSOLE_RING_SIZE 65536
extern uint8_t console_ring_bytes[CONSOLE_RING_SIZE];
// Both counters side by side, hidden (no GOT entry in the position-independent image): the
// "anything to send?" check on every exit is adrp and two loads.
struct console_ring_counters { volatile uint64_t produced, consumed; };
extern struct console_ring_counters console_ring_counters __attribute__((visibility("hidden")));
extern volatile uint32_t console_drain_owner;
static inline uint64_t console_ring_load_produced(void) { return __atomic_load_n(&console_ring_counters.produced, __ATOMIC_ACQUIRE); }
static inline void console_ring_store_produced(uint64_t v) { __atomic_store_n(&console_ring_counters.produced, v, __ATOMIC_RELEASE); }
static inline uint64_t console_ring_load_consumed(void) { return __atomic_load_n(&console_ring_counters.consumed, __ATOMIC_ACQUIRE); }
static inline void console_ring_store_consumed(uint64_t v) { __atomic_store_n(&console_ring_counters.consumed, v, __ATOMIC_RELEASE); }
static inline uint8_t console_ring_load_byte(uint64_t slot) { return console_ring_bytes[slot & (CONSOLE_RING_SIZE - 1)]; }
static inline void console_ring_store_byte(uint64_t slot, uint8_t v) { console_ring_bytes[slot & (CONSOLE_RING_SIZE - 1)] = v; }
// Output is waiting (two loads: the exit path's whole cost when nothing was printed).
static inline int console_ring_pending(void) { return console_ring_counters.produced != console_ring_counters.consumed; }
static inline int console_drain_try_acquire(uint32_t owner) {
    uint32_t expected = 0;
    return __atomic_compare_exchange_n(&console_drain_owner, &expected, owner, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static inline void console_drain_release(void) { __atomic_store_n(&console_drain_owner, 0, __ATOMIC_RELEASE); }
static inline uint32_t console_drain_holder(void) { return __atomic_load_n(&console_drain_owner, __ATOMIC_ACQUIRE); }
// A spinning core's hint (Arm ARM C6.2.400 YIELD): under QEMU's TCG it lets another vCPU run.
static inline void spin_wait_hint(void) { __asm__ volatile("yield" ::: "memory"); }

// A physical SGI to one core (ICC_SGI1R_EL1 at EL2: Aff3-1 and a TargetList bit for Aff0).
static inline void send_physical_sgi(uint64_t intid, uint64_t mpidr) {
    uint64_t v = (intid & 0xF) << 24 | ((mpidr >> 8) & 0xFF) << 16 | ((mpidr >> 16) & 0xFF) << 32
               | ((mpidr >> 32) & 0xFF) << 48 | (1ull << (mpidr & 0xF));
    __asm__ volatile("dsb ishst; msr S3_0_C12_C11_5, %0; isb" :: "r"(v) : "memory");
}
static inline struct core_context *this_core(void) {
    struct core_context *c; __asm__ volatile("mrs %0, tpidr_el2" : "=r"(c)); return c;
}

// What a secondary core needs before it can run Swift with the MMU on (entry.S reads it).
struct secondary_boot {
    uint64_t ttbr0, tcr, mair, sctlr, vbar, hcr;
    uint64_t stack_top[8];
};
_Static_assert(__builtin_offsetof(struct secondary_boot, ttbr0) == 0, "entry.S reads ttbr0 at 0");
_Static_assert(__builtin_offsetof(struct secondary_boot, tcr) == 8, "entry.S reads tcr at 8");
_Static_assert(__builtin_offsetof(struct secondary_boot, mair) == 16, "entry.S reads mair at 16");
_Static_assert(__builtin_offsetof(struct secondary_boot, sctlr) == 24, "entry.S reads sctlr at 24");
_Static_assert(__builtin_offsetof(struct secondary_boot, vbar) == 32, "entry.S reads vbar at 32");
_Static_assert(__builtin_offsetof(struct secondary_boot, hcr) == 40, "entry.S reads hcr at 40");
_Static_assert(__builtin_offsetof(struct secondary_boot, stack_top) == 48, "entry.S reads stack_top at 48");
extern struct secondary_boot secondary_boot_data;
void secondary_entry(void);
static inline uint64_t secondary_entry_address(void) { return (uint64_t)&secondary_entry; }
// Spin-table entries (entry.S): 8 bytes each, entry n sets x0 = n and joins secondary_entry.
extern char secondary_spin_entries[];
static inline uint64_t secondary_spin_entry_address(uint64_t index) { return (uint64_t)secondary_spin_entries + 8 * index; }
// Releases a core parked in a spin table (Linux Documentation/arch/arm64/booting.rst, 5):
// the entry's physical address at its cpu-release-addr, cleaned to the point of coherency
// (the parked core reads with its MMU and caches off), a DSB so the write is complete, and
// SEV to wake it from WFE.
static inline void spin_table_release(uint64_t release_address, uint64_t entry) {
    *(volatile uint64_t *)release_address = entry;
    __asm__ volatile("dc civac, %0; dsb sy; sev" :: "r"(release_address) : "memory");
}

// Stage 1+2 translation of a guest VA as the guest's EL1 would access it (Arm ARM C5.5).
// Returns PAR_EL1; the caller preserves the guest's own PAR_EL1.
static inline uint64_t at_s12e1r(uint64_t va) {
    uint64_t par; __asm__ volatile("at s12e1r, %1; isb; mrs %0, par_el1" : "=r"(par) : "r"(va) : "memory"); return par;
}
static inline uint64_t at_s12e1w(uint64_t va) {
    uint64_t par; __asm__ volatile("at s12e1w, %1; isb; mrs %0, par_el1" : "=r"(par) : "r"(va) : "memory"); return par;
}

// Zeroes [start, start+size) of Normal memory (EL2 MMU on): DC ZVA a block at a time where
// DCZID_EL0 allows it (DZP clear) and the range is block aligned, 8-byte stores otherwise.
// Under QEMU's TCG one DC ZVA costs about what one store does, so large guest RAM is zeroed
// several times faster than by memset (Arm ARM C6.2.82, D19.2.33).
static inline void zero_memory(uint64_t start, uint64_t size) {
    uint64_t dczid; __asm__ volatile("mrs %0, dczid_el0" : "=r"(dczid));
    uint64_t block = 4ull << (dczid & 0xF);
    if ((dczid & (1 << 4)) == 0 && ((start | size) & (block - 1)) == 0) {
        for (uint64_t a = start; a < start + size; a += block) __asm__ volatile("dc zva, %0" :: "r"(a) : "memory");
        return;
    }
    for (uint64_t a = start; a < start + size; a += 8) *(volatile uint64_t *)a = 0;
}

// Makes [start, start+size) visible to a guest running with its MMU and caches off:
// clean to the Point of Coherency, then invalidate the instruction cache (Arm ARM D7.5).
// Eight lines per loop iteration: under QEMU's TCG the loop's own instructions cost as much
// as the DC CVACs, and a guest kernel image is half a million lines.
static inline void clean_dcache_to_poc(uint64_t start, uint64_t size) {
    uint64_t line = 4ull << ((read_ctr_el0() >> 16) & 0xF);
    uint64_t a = start & ~(line - 1), end = start + size;
    for (; a + 8 * line <= end; ) {
        __asm__ volatile("dc cvac, %0; add %0, %0, %1; dc cvac, %0; add %0, %0, %1; dc cvac, %0; add %0, %0, %1;"
                         "dc cvac, %0; add %0, %0, %1; dc cvac, %0; add %0, %0, %1; dc cvac, %0; add %0, %0, %1;"
                         "dc cvac, %0; add %0, %0, %1; dc cvac, %0; add %0, %0, %1"
                         : "+r"(a) : "r"(line) : "memory");
    }
    for (; a < end; a += line) __asm__ volatile("dc cvac, %0" :: "r"(a) : "memory");
    __asm__ volatile("dsb ish; ic ialluis; dsb ish; isb" ::: "memory");
}

// A physical IRQ is pending at this core (ISR_EL1.I, read at EL2; Arm ARM D19.2.71), though
// PSTATE.I keeps it from being taken.
static inline _Bool physical_irq_pending(void) {
    uint64_t isr; __asm__ volatile("mrs %0, isr_el1" : "=r"(isr));
    return (isr & (1u << 7)) != 0;
}

// Zeroes [start, start+size) of Normal memory and cleans the zeroes to the Point of
// Coherency, so that a guest starting with its MMU off (Non-cacheable accesses) reads zeroes
// and no dirty line of ours is later written back over what it stored. Where DC ZVA is
// permitted (DCZID_EL0.DZP clear) and its block is one cache line (CTR_EL0.DminLine), each
// line is zeroed and cleaned at once, eight per loop iteration; otherwise zero_memory then
// clean_dcache_to_poc (Arm ARM C6.2.82 DC ZVA, C6.2.77 DC CVAC, D19.2.33 DCZID_EL0).
// `start` and `size` are multiples of 512 bytes for the fast path.
static inline void zero_and_clean_to_poc(uint64_t start, uint64_t size) {
    uint64_t dczid; __asm__ volatile("mrs %0, dczid_el0" : "=r"(dczid));
    uint64_t block = 4ull << (dczid & 0xF);
    uint64_t line = 4ull << ((read_ctr_el0() >> 16) & 0xF);
    if ((dczid & (1 << 4)) == 0 && block == line && ((start | size) & (8 * line - 1)) == 0) {
        for (uint64_t a = start; a < start + size; ) {
            __asm__ volatile("dc zva, %0; dc cvac, %0; add %0, %0, %1; dc zva, %0; dc cvac, %0; add %0, %0, %1;"
                             "dc zva, %0; dc cvac, %0; add %0, %0, %1; dc zva, %0; dc cvac, %0; add %0, %0, %1;"
                             "dc zva, %0; dc cvac, %0; add %0, %0, %1; dc zva, %0; dc cvac, %0; add %0, %0, %1;"
                             "dc zva, %0; dc cvac, %0; add %0, %0, %1; dc zva, %0; dc cvac, %0; add %0, %0, %1"
                             : "+r"(a) : "r"(line) : "memory");
        }
        __asm__ volatile("dsb ish; ic ialluis; dsb ish; isb" ::: "memory");
        return;
    }
    zero_memory(start, size);
    clean_dcache_to_poc(start, size);
}

// Spectre-v2 without the firmware's SMCCC_ARCH_WORKAROUND_1: IC IALLU, which also invalidates
// the branch target buffer on Cortex-A57/A72 where EL3 set CPUACTLR_EL1's bit for it.
static inline void branch_predictor_invalidate_local(void) {
    __asm__ volatile("ic iallu; dsb nsh; isb" ::: "memory");
}
// Spectre-BHB: k (> 0) taken branches overwrite the branch history (Linux's spectre_bhb_loop:
// k = 8 on Cortex-A57/A72).
static inline void branch_history_clear(uint64_t k) {
    __asm__ volatile("1: b 2f\n2: subs %0, %0, #1\n b.ne 1b\n dsb nsh\n isb" : "+r"(k) :: "cc", "memory");
}

// The EL2 vectors whose guest exits call SMCCC_ARCH_WORKAROUND_1 first (vectors.S).
extern char el2_vectors_workaround_1[];
static inline uint64_t el2_vectors_workaround_1_address(void) { return (uint64_t)el2_vectors_workaround_1; }

// A firmware call with the SMC or HVC conduit the DTB names (SMCCC); returns x0. SMCCC 1.0
// firmware may leave x4-x17 UNPREDICTABLE (Arm DEN 0028, AArch64 register use; 1.1 and later
// preserve them), so they are declared clobbered for whichever firmware answers.
#define SMCCC_CLOBBERS "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory"
static inline uint64_t firmware_call_smc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 __asm__("x0") = fid, x1 __asm__("x1") = a1, x2 __asm__("x2") = a2, x3 __asm__("x3") = a3;
    __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: SMCCC_CLOBBERS);
    return x0;
}
static inline uint64_t firmware_call_hvc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 __asm__("x0") = fid, x1 __asm__("x1") = a1, x2 __asm__("x2") = a2, x3 __asm__("x3") = a3;
    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: SMCCC_CLOBBERS);
    return x0;
}

// EL1 context switch (only when a different vCPU is about to run).
void el1_context_save(struct el1_context *c);
void el1_context_restore(const struct el1_context *c);
void fp_state_save(struct fp_state *s);
void fp_state_restore(const struct fp_state *s);

// Entered with the stack reset to `stack_top`; never returns.
void enter_guest_first(struct vcpu_frame *frame, uint64_t stack_top) __attribute__((noreturn));
void halt_forever(void) __attribute__((noreturn));

// Linker-script symbols, as addresses.
extern char __image_start[], __image_end[], __boot_stack_top[], __heap_start[], __heap_end[];
static inline uint64_t image_start(void) { return (uint64_t)__image_start; }
static inline uint64_t image_end(void) { return (uint64_t)__image_end; }
static inline uint64_t boot_stack_top(void) { return (uint64_t)__boot_stack_top; }
static inline uint64_t heap_start(void) { return (uint64_t)__heap_start; }
static inline uint64_t heap_end(void) { return (uint64_t)__heap_end; }
extern char __secondary_stacks_end[];
static inline uint64_t secondary_stacks_end(void) { return (uint64_t)__secondary_stacks_end; }
// Words a guest shares with the hypervisor (Xen's shared_info and vcpu_info): the guest
// changes them with LDXR/STXR (or LSE atomics), so the hypervisor changes them atomically too,
// never with a plain read-modify-write. `address` is a host address in the guest's RAM.
static inline uint64_t shared_fetch_or64(uint64_t address, uint64_t bits) {
    return __atomic_fetch_or((uint64_t *)address, bits, __ATOMIC_SEQ_CST);
}
static inline uint64_t shared_fetch_and64(uint64_t address, uint64_t bits) {
    return __atomic_fetch_and((uint64_t *)address, bits, __ATOMIC_SEQ_CST);
}
static inline uint64_t shared_load64(uint64_t address) {
    return __atomic_load_n((uint64_t *)address, __ATOMIC_ACQUIRE);
}
static inline void shared_store64(uint64_t address, uint64_t value) {
    __atomic_store_n((uint64_t *)address, value, __ATOMIC_RELEASE);
}
static inline void shared_store32(uint64_t address, uint32_t value) {
    __atomic_store_n((uint32_t *)address, value, __ATOMIC_RELEASE);
}
static inline void shared_store8(uint64_t address, uint8_t value) {
    __atomic_store_n((uint8_t *)address, value, __ATOMIC_RELEASE);
}

#endif
