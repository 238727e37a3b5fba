// Hardware breakpoint and watchpoint registers by number (Arm ARM D19.3.2-D19.3.13): the
// number is part of the MSR encoding, so each register has its own instruction.
#include "arch.h"

#define WRITE(reg, v) __asm__ volatile("msr " reg ", %0" :: "r"(v))
#define CASE_N(n, kind, v) \
    case n: \
        switch (kind) { \
        case 4: WRITE("dbgbvr" #n "_el1", v); break; \
        case 5: WRITE("dbgbcr" #n "_el1", v); break; \
        case 6: WRITE("dbgwvr" #n "_el1", v); break; \
        case 7: WRITE("dbgwcr" #n "_el1", v); break; \
        } \
        break;

void debug_register_write(unsigned kind, unsigned n, uint64_t value) {
    switch (n) {
    CASE_N(0, kind, value) CASE_N(1, kind, value) CASE_N(2, kind, value) CASE_N(3, kind, value)
    CASE_N(4, kind, value) CASE_N(5, kind, value) CASE_N(6, kind, value) CASE_N(7, kind, value)
    CASE_N(8, kind, value) CASE_N(9, kind, value) CASE_N(10, kind, value) CASE_N(11, kind, value)
    CASE_N(12, kind, value) CASE_N(13, kind, value) CASE_N(14, kind, value) CASE_N(15, kind, value)
    }
}

void debug_registers_load(const struct debug_registers *r, unsigned breakpoints, unsigned watchpoints) {
    for (unsigned n = 0; n < breakpoints && n < 16; n++) {
        debug_register_write(4, n, r ? r->bvr[n] : 0);
        debug_register_write(5, n, r ? r->bcr[n] : 0);
    }
    for (unsigned n = 0; n < watchpoints && n < 16; n++) {
        debug_register_write(6, n, r ? r->wvr[n] : 0);
        debug_register_write(7, n, r ? r->wcr[n] : 0);
    }
    __asm__ volatile("isb");
}
