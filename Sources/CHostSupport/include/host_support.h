// What the host tool needs from POSIX that Foundation does not give: a child process that
// dies with us, a pseudo-terminal for tests, and signal handling that is async-signal-safe.
#ifndef SWIFTVISOR_HOST_SUPPORT_H
#define SWIFTVISOR_HOST_SUPPORT_H

#include <sys/types.h>
#include <termios.h>

/// Flags for host_spawn.
enum {
    /// The child gets SIGKILL when the calling thread ends (PR_SET_PDEATHSIG): a QEMU we start
    /// never outlives us, even if we are killed with SIGKILL or crash.
    HOST_SPAWN_DIE_WITH_PARENT = 1,
    /// The child leads its own process group: signals the terminal sends to our group
    /// (Ctrl-C, Ctrl-Z at a cooked terminal) do not reach it; we stop it ourselves.
    HOST_SPAWN_OWN_PROCESS_GROUP = 2,
    /// The child starts a new session whose controlling terminal is its stdin (a pty slave).
    HOST_SPAWN_NEW_SESSION_WITH_TERMINAL = 4,
};

/// Starts `path` with `argv` (NULL-terminated) and the environment `envp` (NULL: ours), with
/// stdin/stdout/stderr on the given descriptors and every other descriptor closed. Returns the
/// child's pid, or -1 with errno set.
pid_t host_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd, int flags);

/// Installs handlers for SIGINT, SIGTERM, SIGHUP and SIGQUIT that write the signal's number as
/// one byte to `fd` (the write end of a pipe that the event loop polls). Returns 0 or -1.
int host_forward_signals(int fd);

/// Restores the previous handlers of the signals host_forward_signals took.
void host_stop_forwarding_signals(void);

/// Remembers `saved` as the settings of terminal `fd` to restore if we die of a fatal signal
/// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP): the handler restores them, then lets the
/// signal take its default course. Call with fd < 0 to forget.
void host_restore_terminal_on_crash(int fd, const struct termios *saved);

/// Opens a pseudo-terminal pair of `rows` x `columns`. Returns 0 or -1.
int host_open_pty(int *master, int *slave, unsigned short rows, unsigned short columns);

#endif
