// A child held at a gate until its scope exists, so it runs no code of its own outside the scope (swift-subprocess has
// no pre-exec hook on Linux, and a process moved afterwards may already have forked children that escape).
//
// Between fork and exec only async-signal-safe calls are made: the parent may be a multithreaded gateway. A failure
// there travels back to the parent as {stage, errno, detail} over the close-on-exec gate socket; a clean exec closes
// it. The isolation steps themselves are in contain.c.
#include "contain.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// MSG_NOSIGNAL: a peer that is gone is an error here, never a SIGPIPE (in the parent: the embedder's process).
static ssize_t send_all(int fd, const void *data, size_t size) {
    ssize_t n;
    do n = send(fd, data, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

_Noreturn static void fail(int gate, cs_spawn_failure failure) {
    (void)send_all(gate, &failure, sizeof failure);
    _exit(failure.error == ENOENT ? 127 : 126);
}

_Noreturn static void fail_at(int gate, cs_spawn_stage stage, int error) {
    fail(gate, (cs_spawn_failure){stage, error, 0});
}

static int write_oom_score_adj(int value) {
    char text[16], *p = text + sizeof text;
    unsigned magnitude = value < 0 ? (unsigned)-value : (unsigned)value;
    do *--p = (char)('0' + magnitude % 10);
    while ((magnitude /= 10) > 0);
    if (value < 0) *--p = '-';
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n;
    do n = write(fd, p, (size_t)(text + sizeof text - p));
    while (n < 0 && errno == EINTR);
    int r = n < 0 ? -errno : 0;
    close(fd);
    return r;
}

// Everything but stdio and the gate (above 2 by now) is closed: other threads' gates must not stay open in this
// child, or their spawns would wait for this one's exec.
static int close_other_fds(int gate) {
    if (gate > 3 && syscall(SYS_close_range, 3U, (unsigned)gate - 1, 0U) < 0) return -errno;
    return syscall(SYS_close_range, (unsigned)gate + 1, ~0U, 0U) < 0 ? -errno : 0;
}

// The last steps before the server runs, shared by the gated child and `corral run --exec`. Returns only on failure.
// oom_score_adj comes first: lowering it needs CAP_SYS_RESOURCE, gone after the credential steps; chdir after them, so
// that the directory is checked as the server's own user (systemd's order too).
static int contain_and_exec(const cs_spawn_spec *spec, cs_spawn_failure *failure) {
    *failure = (cs_spawn_failure){CS_STAGE_OOM_SCORE_ADJ, 0, 0};
    if (spec->set_oom_score_adj) {
        int r = write_oom_score_adj(spec->oom_score_adj);
        if (r < 0) return r;
    }
    int r = contain_namespaces(&spec->containment, failure);
    if (r == 0) r = contain_credentials(&spec->containment, failure);
    if (r < 0) return r;
    failure->stage = CS_STAGE_CHDIR;
    if (spec->directory && chdir(spec->directory) < 0) return -errno;
    failure->stage = CS_STAGE_NO_NEW_PRIVS;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -errno;
    // After chdir and the credentials: its paths are opened as the server's user will reach them.
    r = contain_landlock(&spec->containment, failure);
    if (r < 0) return r;
    failure->stage = CS_STAGE_SECCOMP;
    if (spec->seccomp_program) {
        struct sock_fprog program = {
            .len = (unsigned short)(spec->seccomp_length / sizeof(struct sock_filter)),
            .filter = (struct sock_filter *)spec->seccomp_program,
        };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) < 0) return -errno;
    }
    failure->stage = CS_STAGE_EXEC;
    execve(spec->path, spec->argv, spec->envp);
    return -errno;
}

static void reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
}

_Noreturn static void child(const cs_spawn_spec *spec, int gate, pid_t parent) {
    // The parent may block signals (for a signalfd) or ignore some: the server starts with a clean slate.
    reset_signals();

    // The gate first above 2 (a parent with fd 0 or 1 closed gets it there), so no stdio step can clobber it.
    if (gate <= 2) {
        int moved = fcntl(gate, F_DUPFD_CLOEXEC, 3);
        if (moved < 0) _exit(126);
        close(gate);
        gate = moved;
    }
    // Move stdio sources above 2 next, so that one source being another's target cannot clobber it.
    int sources[3] = {spec->stdin_fd, spec->stdout_fd, spec->stderr_fd};
    for (int i = 0; i < 3; i++)
        if (sources[i] >= 0 && sources[i] != i && (sources[i] = fcntl(sources[i], F_DUPFD, 3)) < 0)
            fail_at(gate, CS_STAGE_STDIO, errno);
    for (int i = 0; i < 3; i++)
        if (sources[i] >= 0 && sources[i] != i && dup2(sources[i], i) < 0) fail_at(gate, CS_STAGE_STDIO, errno);
    // A target that was its own source (or is inherited) may be close-on-exec: the server must still get it.
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_SETFD, 0) < 0 && errno != EBADF) fail_at(gate, CS_STAGE_STDIO, errno);
    int closed = close_other_fds(gate);
    if (closed < 0) fail_at(gate, CS_STAGE_STDIO, -closed);

    if (spec->parent_death_signal) {
        if (prctl(PR_SET_PDEATHSIG, spec->parent_death_signal) < 0) fail_at(gate, CS_STAGE_PARENT_DEATH_SIGNAL, errno);
        if (getppid() != parent) _exit(127);
    }

    // The gate: nothing below runs until the parent says the scope holds us. EOF means the start was abandoned.
    char go;
    ssize_t n;
    do n = read(gate, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);

    cs_spawn_failure failure;
    failure.error = -contain_and_exec(spec, &failure);
    fail(gate, failure);
}

int cs_spawn_gated(const cs_spawn_spec *spec, pid_t *pid, int *gate) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) return -errno;
    pid_t parent = getpid();
    pid_t p = fork();
    if (p < 0) {
        int e = errno;
        close(pair[0]);
        close(pair[1]);
        return -e;
    }
    if (p == 0) {
        close(pair[0]);
        child(spec, pair[1], parent);
    }
    close(pair[1]);
    *pid = p;
    *gate = pair[0];
    return 0;
}

int cs_spawn_release(int gate, cs_spawn_failure *failure) {
    *failure = (cs_spawn_failure){CS_STAGE_NONE, 0, 0};
    char go = 1;
    if (send_all(gate, &go, 1) < 0) {
        int e = errno;
        close(gate);
        return -e;
    }
    cs_spawn_failure r;
    size_t have = 0;
    while (have < sizeof r) {
        ssize_t n = read(gate, (char *)&r + have, sizeof r - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += (size_t)n;
    }
    close(gate);
    if (have == 0) return 0;  // EOF: the exec closed the child's end
    if (have < sizeof r) return -EIO;
    *failure = r;
    return -r.error;
}

void cs_spawn_abort(pid_t pid, int gate) {
    kill(pid, SIGKILL);
    close(gate);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
}

int cs_exec(const cs_spawn_spec *spec, cs_spawn_failure *failure) {
    reset_signals();
    return contain_and_exec(spec, failure);
}
