// Test guests are short-lived: allocation is a bump pointer over the linker's heap area and
// free does nothing. The pointer moves atomically: a guest's vCPUs run in parallel.
#include <stddef.h>
#include <stdint.h>

extern char __heap_start[], __heap_end[];
static uintptr_t next;

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment < 16) alignment = 16;
    uintptr_t old = __atomic_load_n(&next, __ATOMIC_RELAXED), p;
    do {
        uintptr_t base = old ? old : (uintptr_t)__heap_start;
        p = (base + alignment - 1) & ~(uintptr_t)(alignment - 1);
        if (p + size > (uintptr_t)__heap_end) { *result = 0; return 12; }
    } while (!__atomic_compare_exchange_n(&next, &old, p + size, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
    *result = (void *)p;
    return 0;
}

void free(void *p) { (void)p; }
