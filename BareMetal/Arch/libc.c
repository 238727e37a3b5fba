// The C library symbols Embedded Swift's runtime calls (memory moves and compares, a hash
// seed), for the hypervisor and the test guests alike.
// Built with -ffreestanding -fno-builtin so these loops are not turned back into calls.
#include <stddef.h>
#include <stdint.h>

void *memset(void *d, int c, size_t n) {
    unsigned char *p = d;
    while (n && ((uintptr_t)p & 7)) { *p++ = (unsigned char)c; n--; }
    uint64_t v = (unsigned char)c; v |= v << 8; v |= v << 16; v |= v << 32;
    for (; n >= 8; n -= 8, p += 8) *(uint64_t *)p = v;
    while (n--) *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *dp = d; const unsigned char *sp = s;
    if ((((uintptr_t)dp | (uintptr_t)sp) & 7) == 0) {
        // 64 bytes a loop iteration (four LDP/STP pairs): guest kernel images are tens of MiB.
        for (; n >= 64; n -= 64, dp += 64, sp += 64) {
            uint64_t a, b, c, e, f, g, h, i;
            __asm__ volatile("ldp %0, %1, [%8]; ldp %2, %3, [%8, #16]; ldp %4, %5, [%8, #32]; ldp %6, %7, [%8, #48]"
                             : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(e), "=&r"(f), "=&r"(g), "=&r"(h), "=&r"(i)
                             : "r"(sp) : "memory");
            __asm__ volatile("stp %0, %1, [%8]; stp %2, %3, [%8, #16]; stp %4, %5, [%8, #32]; stp %6, %7, [%8, #48]"
                             :: "r"(a), "r"(b), "r"(c), "r"(e), "r"(f), "r"(g), "r"(h), "r"(i), "r"(dp) : "memory");
        }
        for (; n >= 8; n -= 8, dp += 8, sp += 8) *(uint64_t *)dp = *(const uint64_t *)sp;
    }
    while (n--) *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n) {
    unsigned char *dp = d; const unsigned char *sp = s;
    if (dp <= sp || dp >= sp + n) return memcpy(d, s, n);
    while (n--) dp[n] = sp[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}

size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

// Seeds Swift's Hasher. The hypervisor keeps no hash tables of guest-controlled keys, so a
// counter-derived seed is enough; it is not a source of secrets.
void arc4random_buf(void *buf, size_t n) {
    uint64_t x;
    __asm__ volatile("mrs %0, cntpct_el0" : "=r"(x));
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;   // xorshift64
        p[i] = (unsigned char)x;
    }
}
