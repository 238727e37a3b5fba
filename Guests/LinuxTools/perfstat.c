// A static AArch64 Linux program for the test initramfs, a small `perf stat`: runs a command
// with the kernel's perf events (perf_event_open(2)) counting its CPU cycles and instructions
// (PERF_TYPE_HARDWARE: PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS; the armv8 PMU
// driver maps them to CPU_CYCLES and INST_RETIRED), and prints
//     perfstat: C cycles, I instructions: COMMAND
// with "not supported" in place of a count the PMU does not implement. Exit code: the
// command's, or 127 when it could not run. No libc: raw system calls (Linux arm64 numbers).
#include <stdint.h>

static long syscall6(long n, long a, long b, long c, long d, long e, long f) {
    register long x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d, x4 __asm__("x4") = e, x5 __asm__("x5") = f, x8 __asm__("x8") = n;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5), "r"(x8) : "memory");
    return x0;
}
enum { SYS_pipe2 = 59, SYS_close = 57, SYS_read = 63, SYS_write = 64, SYS_exit = 93, SYS_clone = 220,
       SYS_execve = 221, SYS_perf_event_open = 241, SYS_wait4 = 260 };
enum { SIGCHLD = 17 };

static long str_len(const char *s) { long n = 0; while (s[n]) n++; return n; }
static void put(const char *s) { syscall6(SYS_write, 1, (long)s, str_len(s), 0, 0, 0); }
static void put_number(uint64_t v) {
    char buf[24]; int i = 23; buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    put(buf + i);
}
__attribute__((noreturn)) static void leave(long code) { syscall6(SYS_exit, code, 0, 0, 0, 0, 0); __builtin_unreachable(); }

// struct perf_event_attr (include/uapi/linux/perf_event.h), PERF_ATTR_SIZE_VER7 = 128 bytes:
// type at 0, size at 4, config at 8, the flag bits at 40 (disabled 0, inherit 1,
// enable_on_exec 12).
static long open_counter(uint64_t config, long pid) {
    uint64_t attr[16] = {0};
    attr[0] = 0 /* PERF_TYPE_HARDWARE */ | (uint64_t)128 << 32;
    attr[1] = config;
    attr[5] = 1 << 0 | 1 << 1 | 1 << 12;
    return syscall6(SYS_perf_event_open, (long)attr, pid, -1, -1, 0, 0);
}

static void report(long fd) {
    uint64_t count = 0;
    if (fd < 0 || syscall6(SYS_read, fd, (long)&count, 8, 0, 0, 0) != 8) { put("not supported"); return; }
    put_number(count);
}

__attribute__((noreturn)) void start_c(long *stack) {
    long argc = stack[0];
    char **argv = (char **)(stack + 1), **envp = argv + argc + 1;
    if (argc < 2) { put("usage: perfstat COMMAND [ARGUMENT...]\n"); leave(127); }
    int go[2];
    if (syscall6(SYS_pipe2, (long)go, 0, 0, 0, 0, 0) != 0) leave(127);
    long child = syscall6(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
    if (child == 0) {
        // Wait until the counters are open on us, then become the command.
        char byte;
        syscall6(SYS_close, go[1], 0, 0, 0, 0, 0);
        syscall6(SYS_read, go[0], (long)&byte, 1, 0, 0, 0);
        syscall6(SYS_execve, (long)argv[1], (long)(argv + 1), (long)envp, 0, 0, 0);
        put("perfstat: cannot run "); put(argv[1]); put("\n");
        leave(127);
    }
    if (child < 0) leave(127);
    long cycles = open_counter(0 /* PERF_COUNT_HW_CPU_CYCLES */, child);
    long instructions = open_counter(1 /* PERF_COUNT_HW_INSTRUCTIONS */, child);
    syscall6(SYS_write, go[1], (long)"g", 1, 0, 0, 0);
    syscall6(SYS_close, go[1], 0, 0, 0, 0, 0);
    int status = 0;
    syscall6(SYS_wait4, child, (long)&status, 0, 0, 0, 0);
    put("perfstat: "); report(cycles); put(" cycles, "); report(instructions); put(" instructions:");
    for (long i = 1; i < argc; i++) { put(" "); put(argv[i]); }
    put("\n");
    leave((status >> 8) & 0xFF);
}

// The kernel starts us with sp at argc, argv[], NULL, envp[], NULL.
__attribute__((naked, noreturn)) void _start(void) {
    __asm__ volatile("mov x0, sp\n bl start_c");
}
