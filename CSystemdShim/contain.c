// The held child's isolation, between the gate and exec: namespaces (a network namespace too, for --network),
// read-only mounts, hidden buses, `--hide` covers, credentials. The Landlock ruleset is landlock.c's.
//
// The child is already in its scope, so the cgroup namespace made here is rooted at the scope; with cgroup2's
// nsdelegate the kernel then refuses moves out of it and writes to the scope's own limits. The mount namespace
// makes the cgroupfs, /sys and /proc/sys read-only and covers the managers' sockets. Root drops every capability.
// Only raw, async-signal-safe syscalls: everything was prepared by the parent (cs_containment).
#include "contain.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail_at(cs_spawn_failure *failure, cs_spawn_stage stage, int detail) {
    failure->stage = stage;
    failure->detail = detail;
    return -errno;
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n;
    do n = write(fd, text, strlen(text));
    while (n < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    errno = e;
    return n < 0 ? -1 : 0;
}

static int set_attributes(const char *path, unsigned flags, uint64_t attributes) {
    struct mount_attr attr = {.attr_set = attributes};
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr);
}

static int read_only(const char *path, unsigned flags) { return set_attributes(path, flags, MOUNT_ATTR_RDONLY); }

// A fresh cgroup2 superblock view rooted at this cgroup namespace (the scope), read-only, over /sys/fs/cgroup. A plain
// mount(2) there fails with EBUSY, and unmounting the old one first is refused in a user namespace (it is locked).
static int mount_cgroup2(void) {
    int fs = (int)syscall(SYS_fsopen, "cgroup2", FSOPEN_CLOEXEC);
    if (fs < 0) return -1;
    int m = -1, r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    if (r == 0) r = m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                                     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (r >= 0) r = (int)syscall(SYS_move_mount, m, "", AT_FDCWD, "/sys/fs/cgroup", MOVE_MOUNT_F_EMPTY_PATH);
    int e = errno;
    close(fs);
    if (m >= 0) close(m);
    errno = e;
    return r < 0 ? -1 : 0;
}

// `--hide`: a directory becomes an empty read-only tmpfs, anything else a /dev/null that cannot be opened (nodev:
// EACCES; a device node stays writable on a read-only mount, so read-only alone would let writes vanish into
// /dev/null as if they had worked). Mounts made in this namespace cannot be undone by the server (no capabilities
// after exec, seccomp refuses umount, a Landlock domain refuses every mount change); what lies under them is out of
// reach even in a namespace it might make, where they are locked together with what they cover.
static int cover(const cs_cover *c) {
    if (c->directory)
        return mount("tmpfs", c->path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555");
    if (mount("/dev/null", c->path, NULL, MS_BIND, NULL) < 0) return -1;
    return set_attributes(c->path, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV);
}

// The new network namespace's lo up: its addresses (127.0.0.1/8, ::1) come with it. Needs CAP_NET_ADMIN in the
// namespace's user namespace, which the child still has here.
static int loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    memcpy(request.ifr_name, "lo", 3);
    int r = ioctl(s, SIOCGIFFLAGS, &request);
    if (r == 0) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = ioctl(s, SIOCSIFFLAGS, &request);
    }
    int e = errno;
    close(s);
    errno = e;
    return r;
}

int contain_namespaces(const cs_containment *c, cs_spawn_failure *failure) {
    if (c->flags & CS_CONTAIN_USER_NAMESPACE) {
        if (unshare(CLONE_NEWUSER) < 0) return fail_at(failure, CS_STAGE_USER_NAMESPACE, 0);
        if (write_file("/proc/self/uid_map", c->uid_map) < 0) return fail_at(failure, CS_STAGE_UID_MAP, 0);
        if (write_file("/proc/self/setgroups", "deny") < 0 || write_file("/proc/self/gid_map", c->gid_map) < 0)
            return fail_at(failure, CS_STAGE_GID_MAP, 0);
    }
    if (!(c->flags & CS_CONTAIN_NAMESPACES)) return 0;
    int network = c->flags & CS_CONTAIN_NETWORK ? CLONE_NEWNET : 0;
    if (unshare(CLONE_NEWCGROUP | CLONE_NEWNS | network) < 0) return fail_at(failure, CS_STAGE_NAMESPACES, 0);
    if (network && (c->flags & CS_CONTAIN_LOOPBACK) && loopback_up() < 0) return fail_at(failure, CS_STAGE_LOOPBACK, 0);
    // Slave: mounts the host makes later still reach the server, nothing made here reaches the host.
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) return fail_at(failure, CS_STAGE_PROPAGATION, 0);
    for (size_t i = 0; i < c->hidden_count; i++) {
        struct stat info;
        if (stat(c->hidden[i], &info) < 0) {
            if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) continue;
            return fail_at(failure, CS_STAGE_HIDE, (int)i);
        }
        if (mount("/dev/null", c->hidden[i], NULL, MS_BIND, NULL) < 0) return fail_at(failure, CS_STAGE_HIDE, (int)i);
    }
    struct stat info;
    if ((c->flags & CS_CONTAIN_HIDE_RUN_USER) && stat("/run/user", &info) == 0 &&
        mount("tmpfs", "/run/user", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0755") < 0)
        return fail_at(failure, CS_STAGE_HIDE, -1);
    for (size_t i = 0; i < c->cover_count; i++)
        if (cover(&c->covers[i]) < 0) return fail_at(failure, CS_STAGE_COVER, (int)i);
    if (read_only("/sys", AT_RECURSIVE) < 0) return fail_at(failure, CS_STAGE_SYS_READ_ONLY, 0);
    if (mount_cgroup2() < 0) return fail_at(failure, CS_STAGE_CGROUP_MOUNT, 0);
    // uid 0 writes these by mode bits, capabilities or not: core_pattern runs a program outside any scope, sysrq
    // reboots. Docker makes them read-only too.
    const char *proc[] = {"/proc/sys", "/proc/sysrq-trigger"};
    for (int i = 0; i < 2; i++) {
        if (mount(proc[i], proc[i], NULL, MS_BIND | MS_REC, NULL) < 0) {
            if (errno == ENOENT) continue;  // a kernel without sysrq
            return fail_at(failure, CS_STAGE_PROC_READ_ONLY, i);
        }
        if (read_only(proc[i], AT_RECURSIVE) < 0) return fail_at(failure, CS_STAGE_PROC_READ_ONLY, i);
    }
    return 0;
}

int contain_credentials(const cs_containment *c, cs_spawn_failure *failure) {
    if (c->flags & CS_CONTAIN_DROP_CAPABILITIES) {
        // Before capset: securebits and the bounding set need CAP_SETPCAP. NOROOT: exec as uid 0 gains nothing;
        // NO_SETUID_FIXUP: the uid change below leaves the capability sets to capset.
        unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                             SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
        if (c->capabilities == 0) bits |= SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
        if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0) return fail_at(failure, CS_STAGE_SECUREBITS, 0);
        for (int cap = 0; cap <= c->last_capability; cap++)
            if (!(c->capabilities & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                return fail_at(failure, CS_STAGE_BOUNDING_SET, cap);
    }
    if (c->flags & CS_CONTAIN_SET_IDS) {
        // Raw syscalls: glibc's wrappers broadcast to every thread, and this child was forked from a threaded parent.
        if (syscall(SYS_setgroups, c->group_count, c->groups) < 0) return fail_at(failure, CS_STAGE_SETGROUPS, 0);
        if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0) return fail_at(failure, CS_STAGE_SETRESGID, 0);
        if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0) return fail_at(failure, CS_STAGE_SETRESUID, 0);
    }
    if (c->flags & CS_CONTAIN_DROP_CAPABILITIES) {
        struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
        uint32_t low = (uint32_t)c->capabilities, high = (uint32_t)(c->capabilities >> 32);
        struct __user_cap_data_struct data[2] = {{low, low, low}, {high, high, high}};
        if (syscall(SYS_capset, &header, data) < 0) return fail_at(failure, CS_STAGE_CAPSET, 0);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return fail_at(failure, CS_STAGE_AMBIENT, 0);
        for (int cap = 0; cap <= c->last_capability; cap++)
            if ((c->capabilities & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                return fail_at(failure, CS_STAGE_AMBIENT, cap);
    }
    return 0;
}

int cs_contain_probe(const cs_containment *containment, cs_spawn_failure *failure) {
    cs_containment c = {.flags = containment->flags & (CS_CONTAIN_USER_NAMESPACE | CS_CONTAIN_NAMESPACES),
                        .uid_map = containment->uid_map, .gid_map = containment->gid_map};
    *failure = (cs_spawn_failure){CS_STAGE_NONE, 0, 0};
    int pipe[2];
    if (pipe2(pipe, O_CLOEXEC) < 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pipe[0]);
        close(pipe[1]);
        return -e;
    }
    if (pid == 0) {
        cs_spawn_failure f = {CS_STAGE_NONE, 0, 0};
        int r = contain_namespaces(&c, &f);
        f.error = -r;
        (void)!write(pipe[1], &f, sizeof f);
        _exit(0);
    }
    close(pipe[1]);
    ssize_t n;
    do n = read(pipe[0], failure, sizeof *failure);
    while (n < 0 && errno == EINTR);
    close(pipe[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    if (n != sizeof *failure) return -EIO;
    return -failure->error;
}
