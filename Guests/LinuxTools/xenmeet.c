// xenmeet: two Linux guests meet through xenstore, share a page and signal each other, with
// nothing but Linux's own Xen drivers (xen-gntalloc, xen-gntdev, xen-evtchn, xenbus's
// /dev/xen/xenbus) — what libvchan does, in one small static program for the test initramfs.
//
//   xenmeet offer PEER    grants PEER a page and an unbound event channel, publishes both in
//                         xenstore (data/xenmeet, readable by PEER), then talks.
//   xenmeet accept PEER   reads PEER's data/xenmeet, maps the page, binds the channel, talks.
//
// The talk, each step signalled on the event channel:
//   offer writes "hello from <name>" at offset 0 before publishing;
//   accept prints it, writes its answer at offset 2048 and notifies;
//   offer waits for the event, prints the answer, writes "goodbye from <name>" at 0, notifies;
//   accept waits for the event and prints it. Both exit 0 only if every step worked.
// Output lines start with "xenmeet:" (the system tests read them). No libc: raw system calls.
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
static long sys_open(const char *p) { return sc6(56, AT_FDCWD, (long)p, O_RDWR, 0, 0, 0); }
static long sys_read(long fd, void *b, long n) { return sc6(63, fd, (long)b, n, 0, 0, 0); }
static long sys_write(long fd, const void *b, long n) { return sc6(64, fd, (long)b, n, 0, 0, 0); }
static long sys_ioctl(long fd, unsigned long req, void *arg) { return sc6(29, fd, (long)req, (long)arg, 0, 0, 0); }
static long sys_mmap(long len, long fd, long offset) { return sc6(222, 0, len, 3 /* RW */, 1 /* MAP_SHARED */, fd, offset); }
static void sys_sleep_ms(long ms) {
    struct { long s, ns; } t = { ms / 1000, (ms % 1000) * 1000000 };
    sc6(101, (long)&t, 0, 0, 0, 0, 0);
}
__attribute__((noreturn)) static void sys_exit(long code) { sc6(93, code, 0, 0, 0, 0, 0); __builtin_unreachable(); }

// ---- strings ----
static long len(const char *s) { long n = 0; while (s[n]) n++; return n; }
static void put(const char *s) { sys_write(1, s, len(s)); }
static char *append(char *d, const char *s) { while (*s) *d++ = *s++; *d = 0; return d; }
static char *append_num(char *d, unsigned long v) {
    char t[24]; int i = 0;
    do { t[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i) *d++ = t[--i];
    *d = 0;
    return d;
}
static long parse_num(const char **s) {
    long v = -1;
    while (**s == ' ') (*s)++;
    while (**s >= '0' && **s <= '9') { v = (v < 0 ? 0 : v * 10) + (**s - '0'); (*s)++; }
    return v;
}
static void say(const char *a, const char *b) {
    char line[256];
    char *p = append(line, "xenmeet: ");
    p = append(p, a);
    if (b) p = append(p, b);
    append(p, "\n");
    put(line);
}
__attribute__((noreturn)) static void fail(const char *what, long err) {
    char line[160];
    char *p = append(line, "xenmeet: FAILED: ");
    p = append(p, what);
    p = append(p, " (");
    if (err < 0) { p = append(p, "-"); err = -err; }
    p = append_num(p, (unsigned long)err);
    append(p, ")\n");
    put(line);
    sys_exit(1);
}

// ---- Linux's Xen device ABIs (include/uapi/xen/{gntalloc,gntdev,evtchn}.h) ----
#define IOC(type, nr, size) ((unsigned long)(size) << 16 | (unsigned long)(type) << 8 | (nr))
struct gntalloc_alloc_gref { uint16_t domid, flags; uint32_t count; uint64_t index; uint32_t gref_ids[1]; };
#define IOCTL_GNTALLOC_ALLOC_GREF IOC('G', 5, sizeof(struct gntalloc_alloc_gref))
#define GNTALLOC_FLAG_WRITABLE 1
struct gntdev_map_grant_ref { uint32_t count, pad; uint64_t index; struct { uint32_t domid, ref; } refs[1]; };
#define IOCTL_GNTDEV_MAP_GRANT_REF IOC('G', 0, sizeof(struct gntdev_map_grant_ref))
struct evtchn_bind_interdomain { uint32_t remote_domain, remote_port; };
struct evtchn_bind_unbound_port { uint32_t remote_domain; };
struct evtchn_notify { uint32_t port; };
#define IOCTL_EVTCHN_BIND_INTERDOMAIN IOC('E', 1, sizeof(struct evtchn_bind_interdomain))
#define IOCTL_EVTCHN_BIND_UNBOUND_PORT IOC('E', 2, sizeof(struct evtchn_bind_unbound_port))
#define IOCTL_EVTCHN_NOTIFY IOC('E', 4, sizeof(struct evtchn_notify))

// ---- xenstore through /dev/xen/xenbus (xen/include/public/io/xs_wire.h) ----
enum { XS_READ = 2, XS_WRITE = 11, XS_SET_PERMS = 14, XS_ERROR = 16 };
struct xsd_sockmsg { uint32_t type, req_id, tx_id, len; };
static long xenbus = -1;

// Sends one request (payload of `n` bytes) and reads the reply's payload into `reply`
// (NUL-terminated). Returns the reply's type, or a negative errno.
static long xs_request(uint32_t type, const char *payload, long n, char *reply, long max) {
    static char buf[4096 + 16];
    struct xsd_sockmsg *m = (struct xsd_sockmsg *)buf;
    m->type = type; m->req_id = 1; m->tx_id = 0; m->len = (uint32_t)n;
    for (long i = 0; i < n; i++) buf[16 + i] = payload[i];
    long w = sys_write(xenbus, buf, 16 + n);
    if (w < 0) return w;
    long r = sys_read(xenbus, buf, sizeof buf - 1);
    if (r < 16) return r < 0 ? r : -5;
    long got = r - 16;
    if (got > max - 1) got = max - 1;
    for (long i = 0; i < got; i++) reply[i] = buf[16 + i];
    reply[got] = 0;
    return m->type;
}
static long xs_read(const char *path, char *value, long max) {
    return xs_request(XS_READ, path, len(path) + 1, value, max);
}
static long xs_write(const char *path, const char *value) {
    char p[512], reply[64];
    char *e = append(p, path) + 1;
    e = append(e, value);
    return xs_request(XS_WRITE, p, e - p, reply, sizeof reply);
}
// Owner `me` with no access for others, then read access for `peer` (docs/misc/xenstore.txt).
static long xs_share(const char *path, long me, long peer) {
    char p[256], reply[64];
    char *e = append(p, path) + 1;
    *e++ = 'n'; e = append_num(e, (unsigned long)me) + 1;
    *e++ = 'r'; e = append_num(e, (unsigned long)peer) + 1;
    return xs_request(XS_SET_PERMS, p, e - p, reply, sizeof reply);
}

// ---- the talk ----
static long evtchn = -1;
static void wait_event(uint32_t port) {
    uint32_t got;
    long r = sys_read(evtchn, &got, 4);
    if (r != 4) fail("reading /dev/xen/evtchn", r);
    if (got != port) fail("event on an unexpected port", got);
    sys_write(evtchn, &got, 4);   // unmask it again
}
// Waits for events until the text at `at` starts with `prefix`: an event may come without news
// (bind_interdomain sets the new port pending at once, as Xen does), so the page says when the
// peer has written.
static void wait_for_text(uint32_t port, volatile const char *at, const char *prefix) {
    for (int tries = 0; tries < 100; tries++) {
        long i = 0;
        while (prefix[i] && at[i] == prefix[i]) i++;
        if (!prefix[i]) return;
        wait_event(port);
    }
    fail("waiting for the peer's message", 0);
}
static void notify(uint32_t port) {
    struct evtchn_notify n = { port };
    long r = sys_ioctl(evtchn, IOCTL_EVTCHN_NOTIFY, &n);
    if (r < 0) fail("IOCTL_EVTCHN_NOTIFY", r);
}
static void write_text(volatile char *at, const char *a, const char *b) {
    long i = 0;
    while (*a) at[i++] = *a++;
    while (*b) at[i++] = *b++;
    at[i] = 0;
}
static void copy_text(char *to, volatile const char *from, long max) {
    long i = 0;
    while (i < max - 1 && from[i]) { to[i] = from[i]; i++; }
    to[i] = 0;
}

__attribute__((noreturn)) static void run(int offer, long peer) {
    char me_s[32], name[64], path[128], value[128], text[128];
    xenbus = sys_open("/dev/xen/xenbus");
    if (xenbus < 0) fail("opening /dev/xen/xenbus", xenbus);
    evtchn = sys_open("/dev/xen/evtchn");
    if (evtchn < 0) fail("opening /dev/xen/evtchn", evtchn);
    if (xs_read("domid", me_s, sizeof me_s) != XS_READ) fail("reading domid from xenstore", 0);
    const char *q = me_s;
    long me = parse_num(&q);
    if (xs_read("name", name, sizeof name) != XS_READ) fail("reading name from xenstore", 0);

    if (offer) {
        long gnt = sys_open("/dev/xen/gntalloc");
        if (gnt < 0) fail("opening /dev/xen/gntalloc", gnt);
        struct gntalloc_alloc_gref a = { (uint16_t)peer, GNTALLOC_FLAG_WRITABLE, 1, 0, { 0 } };
        long r = sys_ioctl(gnt, IOCTL_GNTALLOC_ALLOC_GREF, &a);
        if (r < 0) fail("IOCTL_GNTALLOC_ALLOC_GREF", r);
        long page = sys_mmap(4096, gnt, (long)a.index);
        if (page < 0 && page > -4096) fail("mmap of the granted page", page);
        volatile char *shared = (volatile char *)page;
        struct evtchn_bind_unbound_port u = { (uint32_t)peer };
        long port = sys_ioctl(evtchn, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &u);
        if (port < 0) fail("IOCTL_EVTCHN_BIND_UNBOUND_PORT", port);
        write_text(shared, "hello from ", name);

        char *e = append(value, "");
        e = append_num(e, a.gref_ids[0]); e = append(e, " "); append_num(e, (unsigned long)port);
        e = append(path, "/local/domain/"); e = append_num(e, (unsigned long)me); append(e, "/data/xenmeet");
        r = xs_write(path, value);
        if (r != XS_WRITE) fail("writing data/xenmeet", r);
        r = xs_share(path, me, peer);
        if (r != XS_SET_PERMS) fail("sharing data/xenmeet", r);
        say("offered grant and port: ", value);

        wait_for_text((uint32_t)port, shared + 2048, "hello back from ");
        copy_text(text, shared + 2048, sizeof text);
        say("received: ", text);
        write_text(shared, "goodbye from ", name);
        notify((uint32_t)port);
        say("done", 0);
        sys_exit(0);
    }

    char *e = append(path, "/local/domain/");
    e = append_num(e, (unsigned long)peer); append(e, "/data/xenmeet");
    long tries = 0;
    while (xs_read(path, value, sizeof value) != XS_READ) {
        if (++tries > 600) fail("waiting for the peer's data/xenmeet", 0);
        sys_sleep_ms(100);
    }
    q = value;
    long ref = parse_num(&q), remote_port = parse_num(&q);
    if (ref < 0 || remote_port < 0) fail("malformed data/xenmeet", 0);
    say("found grant and port: ", value);

    long dev = sys_open("/dev/xen/gntdev");
    if (dev < 0) fail("opening /dev/xen/gntdev", dev);
    struct gntdev_map_grant_ref m = { 1, 0, 0, { { (uint32_t)peer, (uint32_t)ref } } };
    long r = sys_ioctl(dev, IOCTL_GNTDEV_MAP_GRANT_REF, &m);
    if (r < 0) fail("IOCTL_GNTDEV_MAP_GRANT_REF", r);
    long page = sys_mmap(4096, dev, (long)m.index);
    if (page < 0 && page > -4096) fail("mmap of the peer's page", page);
    volatile char *shared = (volatile char *)page;
    struct evtchn_bind_interdomain b = { (uint32_t)peer, (uint32_t)remote_port };
    long port = sys_ioctl(evtchn, IOCTL_EVTCHN_BIND_INTERDOMAIN, &b);
    if (port < 0) fail("IOCTL_EVTCHN_BIND_INTERDOMAIN", port);

    copy_text(text, shared, sizeof text);
    say("received: ", text);
    write_text(shared + 2048, "hello back from ", name);
    notify((uint32_t)port);
    wait_for_text((uint32_t)port, shared, "goodbye from ");
    copy_text(text, shared, sizeof text);
    say("received: ", text);
    say("done", 0);
    sys_exit(0);
}

__attribute__((noreturn)) void xenmeet_main(long argc, char **argv) {
    if (argc == 3) {
        const char *q = argv[2];
        long peer = parse_num(&q);
        int offer = argv[1][0] == 'o', accept = argv[1][0] == 'a';
        if (peer > 0 && (offer || accept)) run(offer, peer);
    }
    put("usage: xenmeet offer|accept PEER_DOMID\n");
    sys_exit(2);
}

// The kernel starts us with sp -> argc, argv[0], ...
__attribute__((naked, noreturn)) void _start(void) {
    __asm__ volatile("ldr x0, [sp]\n add x1, sp, #8\n b xenmeet_main");
}
