// posix_memalign/free, which Embedded Swift's runtime calls, forwarded to Heap.swift.
#include <stddef.h>

void *swiftvisor_heap_allocate(size_t size, size_t alignment);
void swiftvisor_heap_release(void *p);

int posix_memalign(void **result, size_t alignment, size_t size) {
    *result = swiftvisor_heap_allocate(size, alignment);
    return 0;   // the Swift side panics rather than return NULL
}

void free(void *p) { if (p) swiftvisor_heap_release(p); }

