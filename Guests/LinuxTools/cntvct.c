// A static AArch64 Linux program for the test initramfs: prints CNTVCT_EL0 (Linux lets EL0
// read the virtual counter) in decimal and exits. No libc: raw write/exit system calls.
#include <stdint.h>

static long sys_write(long fd, const char *buf, long n) {
    register long x0 __asm__("x0") = fd, x1 __asm__("x1") = (long)buf, x2 __asm__("x2") = n, x8 __asm__("x8") = 64;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
    return x0;
}

__attribute__((noreturn)) static void sys_exit(long code) {
    register long x0 __asm__("x0") = code, x8 __asm__("x8") = 93;
    __asm__ volatile("svc #0" :: "r"(x0), "r"(x8) : "memory");
    __builtin_unreachable();
}

__attribute__((noreturn)) void _start(void) {
    uint64_t v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
    char buf[24];
    int i = 23;
    buf[i] = '\n';
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    sys_write(1, buf + i, 24 - i);
    sys_exit(0);
}
