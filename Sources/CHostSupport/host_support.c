#define _GNU_SOURCE
#include "host_support.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

pid_t host_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd, int flags) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;   // parent (or -1)

    // Child: only async-signal-safe calls from here to execve (the parent has threads).
    if (flags & HOST_SPAWN_DIE_WITH_PARENT) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);   // the parent died before prctl took effect
    }
    if (flags & HOST_SPAWN_NEW_SESSION_WITH_TERMINAL) {
        setsid();
        ioctl(in_fd, TIOCSCTTY, 0);
    } else if (flags & HOST_SPAWN_OWN_PROCESS_GROUP) {
        setpgid(0, 0);
    }
    // Signals handled or blocked by the parent start at their defaults.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        signal(s, SIG_DFL);
    }
    int fds[3] = {in_fd, out_fd, err_fd};
    // Move the three out of the way first, so dup2 cannot clobber one with another.
    for (int i = 0; i < 3; i++) { fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3); if (fds[i] < 0) _exit(127); }
    for (int i = 0; i < 3; i++) { if (dup2(fds[i], i) < 0) _exit(127); }
    for (int fd = 3; fd < 4096; fd++) close(fd);
    execve(path, argv, envp ? envp : environ);
    _exit(127);
}

static int signal_fd = -1;
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static struct sigaction previous[4];

static void forward(int signo) {
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    if (signal_fd >= 0) { ssize_t r = write(signal_fd, &b, 1); (void)r; }
    errno = saved;
}

int host_forward_signals(int fd) {
    signal_fd = fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int i = 0; i < 4; i++) {
        if (sigaction(forwarded[i], &sa, &previous[i]) != 0) return -1;
    }
    return 0;
}

void host_stop_forwarding_signals(void) {
    for (int i = 0; i < 4; i++) sigaction(forwarded[i], &previous[i], NULL);
    signal_fd = -1;
}

static int terminal_fd = -1;
static struct termios terminal_saved;
static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};

static void restore_and_die(int signo) {
    if (terminal_fd >= 0) tcsetattr(terminal_fd, TCSANOW, &terminal_saved);
    signal(signo, SIG_DFL);
    raise(signo);
}

void host_restore_terminal_on_crash(int fd, const struct termios *saved) {
    if (fd < 0) {
        terminal_fd = -1;
        for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
        return;
    }
    terminal_saved = *saved;
    terminal_fd = fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_and_die;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) sigaction(fatal[i], &sa, NULL);
}

int host_open_pty(int *master, int *slave, unsigned short rows, unsigned short columns) {
    struct winsize ws = {.ws_row = rows, .ws_col = columns};
    return openpty(master, slave, NULL, NULL, &ws);
}
