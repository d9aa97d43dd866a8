// Process and signal helpers Swift's Glibc module does not reach (no _GNU_SOURCE there, no syscall wrappers).
#include "CSystemdShim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <linux/magic.h>
#include <sys/signalfd.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int cs_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

int cs_signalfd(const int *signals) {
    sigset_t set;
    sigemptyset(&set);
    for (const int *s = signals; *s; s++) sigaddset(&set, *s);
    int r = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (r != 0) return -r;
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cs_signalfd_read(int fd, int *signal, int *from_kernel) {
    struct signalfd_siginfo info;
    ssize_t n;
    do n = read(fd, &info, sizeof info);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n != sizeof info) return -EIO;
    *signal = (int)info.ssi_signo;
    *from_kernel = info.ssi_code == SI_KERNEL;
    return 0;
}

int cs_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

int cs_pidfd_send_signal(int pidfd, int signal) {
    return syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0) < 0 ? -errno : 0;
}

int cs_open_directory(const char *path) {
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cs_is_cgroup2(const char *path) {
    struct statfs info;
    if (statfs(path, &info) < 0) return -errno;
    return info.f_type == CGROUP2_SUPER_MAGIC;
}

int cs_block_sigpipe(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

ssize_t cs_write_nosigpipe(int fd, const void *data, size_t size) {
    sigset_t pipe, old, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    // A SIGPIPE already pending for this thread is someone else's: leave it be.
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old);
    ssize_t n;
    do n = write(fd, data, size);
    while (n < 0 && errno == EINTR);
    int error = n < 0 ? errno : 0;
    if (error == EPIPE && !was_pending) {
        struct timespec now = {0, 0};
        while (sigtimedwait(&pipe, NULL, &now) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return error ? -error : n;
}
