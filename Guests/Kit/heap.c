// Test guests are short-lived: allocation is a bump pointer over the linker's heap area and
// free does nothing.
#include <stddef.h>
#include <stdint.h>

extern char __heap_start[], __heap_end[];
static uintptr_t next;

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (!next) next = (uintptr_t)__heap_start;
    if (alignment < 16) alignment = 16;
    uintptr_t p = (next + alignment - 1) & ~(uintptr_t)(alignment - 1);
    if (p + size > (uintptr_t)__heap_end) { *result = 0; return 12; }
    next = p + size;
    *result = (void *)p;
    return 0;
}

void free(void *p) { (void)p; }
