// xendevd: what a Xen driver domain runs to serve its backends (Xen's `xl devd`), and a small
// xenstore client, in one static program for the Linux initramfs (multi-call, by argv[0], as
// Xen's own xenstore tools are):
//
//   xendevd                  watches this domain's `backend` tree in xenstore (/dev/xen/xenbus)
//                            and runs the hotplug scripts' work, as xl devd does
//                            (tools/libs/light/libxl_device.c), since Debian's kernel has no
//                            uevent helper to run them:
//                              backend/vbd/F/N with `params` and no `physical-device`:
//                                /etc/xen/scripts/block add (a loop device for a file; it
//                                writes physical-device, which blkback waits for);
//                              a vbd it served that is gone: /etc/xen/scripts/block remove;
//                              backend/vif/F/N whose interface vifF.N exists and is in no bridge:
//                                /etc/xen/scripts/vif-bridge online (netback names it vifF.N
//                                and creates it at probe; it is re-created when F comes back).
//                            Each script runs with XENBUS_PATH, XENBUS_TYPE and XENBUS_BASE_PATH
//                            set as xl sets them, one at a time (no two scripts race).
//   xenstore-read PATH...    prints each value (exit 1 if one is missing)
//   xenstore-write PATH VALUE [PATH VALUE]...
//   xenstore-rm PATH...
//   xenstore-list PATH       prints the children's names
//   xenstore-ls [PATH]       the tree under PATH (default: this domain's home), as xenstore-ls
//
// Relative paths resolve under /local/domain/<this domain> (xenstored's rule). Output lines of
// the daemon start with "xendevd:". No libc: raw system calls, built like xenmeet.c.
#include <stdint.h>

// ---- system calls (arm64 numbers) ----
static long sc6(long n, long a, long b, long c, long d, long e, long f) {
    register long x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d, x4 __asm__("x4") = e, x5 __asm__("x5") = f, x8 __asm__("x8") = n;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5), "r"(x8) : "memory");
    return x0;
}
#define AT_FDCWD -100
#define O_RDWR 2
#define SIGCHLD 17
static long sys_open(const char *p) { return sc6(56, AT_FDCWD, (long)p, O_RDWR, 0, 0, 0); }
static long sys_read(long fd, void *b, long n) { return sc6(63, fd, (long)b, n, 0, 0, 0); }
static long sys_write(long fd, const void *b, long n) { return sc6(64, fd, (long)b, n, 0, 0, 0); }
static long sys_exists(const char *p) { return sc6(48, AT_FDCWD, (long)p, 0 /* F_OK */, 0, 0, 0) == 0; }
// Waits up to `ms` for input on fd; > 0 if there is some.
static long sys_poll_in(long fd, long ms) {
    struct { int fd; short events, revents; } p = { (int)fd, 1 /* POLLIN */, 0 };
    struct { long s, ns; } t = { ms / 1000, (ms % 1000) * 1000000 };
    return sc6(73, (long)&p, 1, (long)&t, 0, 8, 0);
}
static long sys_fork(void) { return sc6(220, SIGCHLD, 0, 0, 0, 0, 0); }
static long sys_execve(const char *path, char *const *argv, char *const *envp) { return sc6(221, (long)path, (long)argv, (long)envp, 0, 0, 0); }
static long sys_wait(long pid, int *status) { return sc6(260, pid, (long)status, 0, 0, 0, 0); }
__attribute__((noreturn)) static void sys_exit(long code) { sc6(93, code, 0, 0, 0, 0, 0); __builtin_unreachable(); }

// The compiler may emit calls to these for struct and array copies (-nostdlib).
void *memcpy(void *d, const void *s, unsigned long n) { char *a = d; const char *b = s; while (n--) *a++ = *b++; return d; }
void *memset(void *d, int c, unsigned long n) { char *a = d; while (n--) *a++ = (char)c; return d; }

// ---- strings ----
static long len(const char *s) { long n = 0; while (s[n]) n++; return n; }
static int same(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }
static int starts(const char *s, const char *prefix) { while (*prefix) if (*s++ != *prefix++) return 0; return 1; }
static void out(long fd, const char *s) { sys_write(fd, s, len(s)); }
static char *append(char *d, const char *s) { while (*s) *d++ = *s++; *d = 0; return d; }
static const char *basename(const char *p) { const char *b = p; for (; *p; p++) if (*p == '/') b = p + 1; return b; }
static void say(const char *a, const char *b, const char *c) {
    char line[512];
    char *p = append(line, "xendevd: ");
    p = append(p, a);
    if (b) p = append(p, b);
    if (c) p = append(p, c);
    append(p, "\n");
    out(1, line);
}

// ---- xenstore through /dev/xen/xenbus (xen/include/public/io/xs_wire.h) ----
enum { XS_DIRECTORY = 1, XS_READ = 2, XS_WATCH = 4, XS_RM = 13, XS_WRITE = 11, XS_ERROR = 16, XS_WATCH_EVENT = 15 };
#define XS_PAYLOAD_MAX 4096
struct xsd_sockmsg { uint32_t type, req_id, tx_id, len; };
static long xenbus = -1;
// Bytes read from the device and not yet consumed: a read may return several messages, or part of one.
static char inbuf[2 * (XS_PAYLOAD_MAX + 16)];
static long inlen = 0;
static int watch_fired = 0;
static long last_len = 0;   // the payload length of the last reply

// Reads the next whole message; its payload (NUL-terminated) goes to `payload`.
static long xs_next(uint32_t *type, char *payload, long max) {
    for (;;) {
        if (inlen >= 16) {
            struct xsd_sockmsg h;
            memcpy(&h, inbuf, 16);
            if (h.len > XS_PAYLOAD_MAX) return -71;   // EPROTO
            long total = 16 + (long)h.len;
            if (inlen >= total) {
                long n = h.len < max - 1 ? h.len : max - 1;
                memcpy(payload, inbuf + 16, n);
                payload[n] = 0;
                *type = h.type;
                for (long i = total; i < inlen; i++) inbuf[i - total] = inbuf[i];
                inlen -= total;
                return (long)h.len;
            }
        }
        long r = sys_read(xenbus, inbuf + inlen, (long)sizeof inbuf - inlen);
        if (r <= 0) return r < 0 ? r : -5;
        inlen += r;
    }
}

// Sends one request and returns the reply's type (its payload in `reply`), or a negative errno.
// Watch events read meanwhile are noted (the daemon rescans on any).
static long xs_request(uint32_t type, const char *payload, long n, char *reply, long max) {
    static char buf[XS_PAYLOAD_MAX + 16];
    if (n > XS_PAYLOAD_MAX) return -7;   // E2BIG
    struct xsd_sockmsg m = { type, 1, 0, (uint32_t)n };
    memcpy(buf, &m, 16);
    memcpy(buf + 16, payload, n);
    long w = sys_write(xenbus, buf, 16 + n);
    if (w < 0) return w;
    for (;;) {
        uint32_t t;
        long r = xs_next(&t, reply, max);
        if (r < 0) return r;
        if (t == XS_WATCH_EVENT) { watch_fired = 1; continue; }
        last_len = r < max - 1 ? r : max - 1;
        return t;
    }
}
static char reply[XS_PAYLOAD_MAX + 1];
static long xs_read(const char *path, char *value, long max) {
    return xs_request(XS_READ, path, len(path) + 1, value, max) == XS_READ ? 0 : -1;
}
static long xs_write(const char *path, const char *value) {
    char p[XS_PAYLOAD_MAX];
    if (len(path) + len(value) + 2 > (long)sizeof p) return -1;
    char *e = append(p, path) + 1;
    e = append(e, value);
    return xs_request(XS_WRITE, p, e - p, reply, sizeof reply) == XS_WRITE ? 0 : -1;
}
// The children's names, NUL-separated, into `names`; returns their total length or -1.
static long xs_directory(const char *path, char *names, long max) {
    long t = xs_request(XS_DIRECTORY, path, len(path) + 1, names, max);
    if (t != XS_DIRECTORY) return -1;
    return last_len;   // names, each followed by a NUL
}
static void open_xenbus(void) {
    xenbus = sys_open("/dev/xen/xenbus");
    if (xenbus < 0) { out(2, "xenstore: cannot open /dev/xen/xenbus (is this a Xen guest with xenbus?)\n"); sys_exit(1); }
}
// Our domain's home, /local/domain/N.
static void home(char *path) {
    char id[32];
    if (xs_read("domid", id, sizeof id) != 0) { out(2, "xenstore: cannot read domid\n"); sys_exit(1); }
    append(append(path, "/local/domain/"), id);
}

// ---- xenstore-* commands ----
static void ls_tree(const char *path, int depth) {
    static char names[16][XS_PAYLOAD_MAX + 1];   // one buffer per level
    if (depth >= 16) return;
    char *list = names[depth];
    long n = xs_directory(path, list, XS_PAYLOAD_MAX + 1);
    if (n < 0) return;
    for (long i = 0; i < n; i += len(list + i) + 1) {
        if (!list[i]) continue;
        char child[1024], value[XS_PAYLOAD_MAX + 1], line[XS_PAYLOAD_MAX + 1200];
        char *e = append(child, path);
        if (e[-1] != '/') e = append(e, "/");
        append(e, list + i);
        char *p = line;
        for (int d = 0; d < depth; d++) p = append(p, " ");
        p = append(p, list + i);
        p = append(p, " = \"");
        if (xs_read(child, value, sizeof value) == 0) p = append(p, value);
        append(p, "\"\n");
        out(1, line);
        ls_tree(child, depth + 1);
    }
}

static int tool(const char *cmd, long argc, char **argv) {
    open_xenbus();
    static char value[XS_PAYLOAD_MAX + 1];
    if (same(cmd, "read") && argc >= 1) {
        for (long i = 0; i < argc; i++) {
            if (xs_read(argv[i], value, sizeof value) != 0) { out(2, "xenstore-read: couldn't read path "); out(2, argv[i]); out(2, "\n"); return 1; }
            out(1, value); out(1, "\n");
        }
        return 0;
    }
    if (same(cmd, "write") && argc >= 2 && argc % 2 == 0) {
        for (long i = 0; i < argc; i += 2)
            if (xs_write(argv[i], argv[i + 1]) != 0) { out(2, "xenstore-write: couldn't write path "); out(2, argv[i]); out(2, "\n"); return 1; }
        return 0;
    }
    if (same(cmd, "rm") && argc >= 1) {
        for (long i = 0; i < argc; i++)
            if (xs_request(XS_RM, argv[i], len(argv[i]) + 1, value, sizeof value) != XS_RM) { out(2, "xenstore-rm: couldn't remove path "); out(2, argv[i]); out(2, "\n"); return 1; }
        return 0;
    }
    if (same(cmd, "list") && argc == 1) {
        long n = xs_directory(argv[0], value, sizeof value);
        if (n < 0) { out(2, "xenstore-list: couldn't list path "); out(2, argv[0]); out(2, "\n"); return 1; }
        for (long i = 0; i < n; i += len(value + i) + 1) if (value[i]) { out(1, value + i); out(1, "\n"); }
        return 0;
    }
    if (same(cmd, "ls") && argc <= 1) {
        char path[256];
        if (argc == 1) append(path, argv[0]); else home(path);
        ls_tree(path, 0);
        return 0;
    }
    out(2, "usage: xenstore-read PATH... | xenstore-write PATH VALUE... | xenstore-rm PATH... | xenstore-list PATH | xenstore-ls [PATH] | xendevd\n");
    return 2;
}

// ---- the daemon ----
static char base[128];   // /local/domain/<me>/backend

// Runs `/etc/xen/scripts/SCRIPT ACTION` for the device at `path` and waits for it.
static int run_script(const char *script, const char *action, const char *type, const char *path) {
    char file[128], xp[256], xt[64], xb[160];
    append(append(file, "/etc/xen/scripts/"), script);
    append(append(xp, "XENBUS_PATH="), path);
    append(append(xt, "XENBUS_TYPE="), type);
    append(append(xb, "XENBUS_BASE_PATH="), base);
    char *argv[] = { "/bin/sh", file, (char *)action, 0 };
    char *envp[] = { "PATH=/bin:/sbin:/usr/bin:/usr/sbin", xp, xt, xb, 0 };
    long pid = sys_fork();
    if (pid == 0) { sys_execve("/bin/sh", argv, envp); sys_exit(127); }
    if (pid < 0) { say("cannot start ", file, 0); return -1; }
    int status = 0;
    while (sys_wait(pid, &status) == -4 /* EINTR */) {}
    return status;
}

// The vbds whose `block add` succeeded (paths), to run `block remove` when they go away.
#define MAX_VBDS 32
static char served[MAX_VBDS][96];

static void scan_vbds(void) {
    static char fes[XS_PAYLOAD_MAX + 1], devs[XS_PAYLOAD_MAX + 1];
    char dir[160], path[160], node[200], value[256];
    // Gone: served before, no node now.
    for (int s = 0; s < MAX_VBDS; s++) {
        if (!served[s][0]) continue;
        append(append(node, served[s]), "/params");
        if (xs_read(node, value, sizeof value) != 0) {
            run_script("block", "remove", "vbd", served[s]);
            served[s][0] = 0;
        }
    }
    append(append(dir, base), "/vbd");
    long nf = xs_directory(dir, fes, sizeof fes);
    for (long i = 0; i < nf; i += len(fes + i) + 1) {
        if (!fes[i]) continue;
        char fdir[200];
        append(append(append(fdir, dir), "/"), fes + i);
        long nd = xs_directory(fdir, devs, sizeof devs);
        for (long j = 0; j < nd; j += len(devs + j) + 1) {
            if (!devs[j]) continue;
            append(append(append(path, fdir), "/"), devs + j);
            append(append(node, path), "/params");
            if (xs_read(node, value, sizeof value) != 0) continue;      // not written yet
            append(append(node, path), "/physical-device");
            if (xs_read(node, value, sizeof value) == 0) continue;      // served already
            // New, or written again after its frontend came back (the script detaches the old loop).
            int status = run_script("block", "add", "vbd", path);
            int slot = -1;
            for (int s = 0; s < MAX_VBDS; s++) if (same(served[s], path)) slot = s;
            for (int s = 0; s < MAX_VBDS && slot < 0; s++) if (!served[s][0]) slot = s;
            if (status == 0 && slot >= 0) append(served[slot], path);
            if (status != 0) say("block add failed for ", path, 0);
        }
    }
}

static void scan_vifs(void) {
    static char fes[XS_PAYLOAD_MAX + 1], devs[XS_PAYLOAD_MAX + 1];
    char dir[160], path[160], sys[160];
    append(append(dir, base), "/vif");
    long nf = xs_directory(dir, fes, sizeof fes);
    for (long i = 0; i < nf; i += len(fes + i) + 1) {
        if (!fes[i]) continue;
        char fdir[200];
        append(append(append(fdir, dir), "/"), fes + i);
        long nd = xs_directory(fdir, devs, sizeof devs);
        for (long j = 0; j < nd; j += len(devs + j) + 1) {
            if (!devs[j]) continue;
            append(append(append(path, fdir), "/"), devs + j);
            // netback's interface: vif<frontend domid>.<handle> (xen-netback/interface.c).
            char *e = append(append(sys, "/sys/class/net/vif"), fes + i);
            e = append(append(e, "."), devs + j);
            if (!sys_exists(sys)) continue;
            append(e, "/brport");
            if (sys_exists(sys)) continue;                               // in a bridge already
            if (run_script("vif-bridge", "online", "vif", path) != 0) say("vif-bridge online failed for ", path, 0);
        }
    }
}

__attribute__((noreturn)) static void daemon(void) {
    open_xenbus();
    home(base);
    append(base + len(base), "/backend");
    char msg[XS_PAYLOAD_MAX + 1];
    long n = len(base);
    memcpy(msg, base, n + 1);
    memcpy(msg + n + 1, "xendevd", 8);
    if (xs_request(XS_WATCH, msg, n + 9, reply, sizeof reply) != XS_WATCH) { say("cannot watch ", base, 0); sys_exit(1); }
    say("watching ", base, 0);
    for (;;) {
        // A change in the tree, or once a second: an interface netback created meanwhile.
        if (watch_fired || inlen > 0 || sys_poll_in(xenbus, 1000) > 0) {
            uint32_t t;
            if (!watch_fired && xs_next(&t, msg, sizeof msg) < 0) { say("lost /dev/xen/xenbus", 0, 0); sys_exit(1); }
            watch_fired = 0;
        }
        scan_vbds();
        scan_vifs();
    }
}

__attribute__((noreturn)) void xendevd_main(long argc, char **argv) {
    const char *me = basename(argv[0]);
    if (same(me, "xendevd")) {
        if (argc == 1) daemon();
        out(2, "usage: xendevd (no arguments: it serves this domain's backend tree until killed)\n");
        sys_exit(2);
    }
    if (starts(me, "xenstore-")) sys_exit(tool(me + 9, argc - 1, argv + 1));
    if (same(me, "xenstore") && argc >= 2) sys_exit(tool(argv[1], argc - 2, argv + 2));
    sys_exit(tool("", 0, argv));
}

// The kernel starts us with sp -> argc, argv[0], ...
__attribute__((naked, noreturn)) void _start(void) {
    __asm__ volatile("ldr x0, [sp]\n add x1, sp, #8\n b xendevd_main");
}
