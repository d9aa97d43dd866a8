// Landlock in the held child: `--read`, `--write`, `--connect` and `--bind` as one ruleset, made and enforced right
// before seccomp and exec (after the mount namespace is complete: a Landlock domain may not change mounts).
//
// Why in C: the three syscalls have no libc wrappers, and this runs between fork and exec, where only raw syscalls
// are safe. The parent worked out the ruleset (cs_landlock) from the kernel's ABI; the child only opens each path
// with O_PATH as the kernel resolves it in the server's mount namespace and adds the rule.
#include "contain.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// Debian 12's headers stop at ABI 2: what later ABIs added is spelled out here.
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define RULE_PATH_BENEATH 1
#define RULE_NET_PORT 2
#define ACCESS_FS_EXECUTE (1ULL << 0)
#define ACCESS_FS_WRITE_FILE (1ULL << 1)
#define ACCESS_FS_READ_FILE (1ULL << 2)
#define ACCESS_FS_TRUNCATE (1ULL << 14)
#define ACCESS_FS_IOCTL_DEV (1ULL << 15)
// The rights that apply to a file itself; a rule on a file with any other right is EINVAL.
#define ACCESS_FS_FILE (ACCESS_FS_EXECUTE | ACCESS_FS_WRITE_FILE | ACCESS_FS_READ_FILE | ACCESS_FS_TRUNCATE | \
                        ACCESS_FS_IOCTL_DEV)

// The kernel's structures as of ABI 6; a shorter size is passed where the later fields are not used.
struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
};

int cs_landlock_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi >= 0) return (int)abi;
    return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -errno;
}

static int fail_at(cs_spawn_failure *failure, cs_spawn_stage stage, int detail, int error) {
    failure->stage = stage;
    failure->detail = detail;
    return -error;
}

static int add_path(int ruleset, const cs_path_rule *rule, uint64_t handled) {
    int fd = open(rule->path, O_PATH | O_CLOEXEC);
    if (fd < 0) return rule->optional && (errno == ENOENT || errno == ENOTDIR || errno == EACCES) ? 0 : -errno;
    struct stat info;
    int r = fstat(fd, &info);
    uint64_t access = rule->access & handled;
    if (r == 0 && !S_ISDIR(info.st_mode)) access &= ACCESS_FS_FILE;
    struct path_beneath_attr attr = {.allowed_access = access, .parent_fd = fd};
    if (r == 0 && access != 0) r = (int)syscall(SYS_landlock_add_rule, ruleset, RULE_PATH_BENEATH, &attr, 0);
    int e = errno;
    close(fd);
    return r < 0 ? -e : 0;
}

int contain_landlock(const cs_containment *c, cs_spawn_failure *failure) {
    if (!(c->flags & CS_CONTAIN_LANDLOCK)) return 0;
    const cs_landlock *l = &c->landlock;
    struct ruleset_attr attr = {.handled_access_fs = l->handled_fs, .handled_access_net = l->handled_net};
    size_t size = l->handled_net ? offsetof(struct ruleset_attr, scoped) : sizeof attr.handled_access_fs;
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) return fail_at(failure, CS_STAGE_LANDLOCK_RULESET, 0, errno);
    int r = 0;
    for (size_t i = 0; r == 0 && i < l->path_count; i++)
        if ((r = add_path(ruleset, &l->paths[i], l->handled_fs)) < 0)
            fail_at(failure, CS_STAGE_LANDLOCK_PATH, (int)i, -r);
    for (size_t i = 0; r == 0 && i < l->port_count; i++) {
        struct net_port_attr port = {.allowed_access = l->ports[i].access & l->handled_net, .port = l->ports[i].port};
        if (syscall(SYS_landlock_add_rule, ruleset, RULE_NET_PORT, &port, 0) < 0)
            r = fail_at(failure, CS_STAGE_LANDLOCK_PORT, (int)i, errno);
    }
    // Needs no_new_privs, which the caller has set.
    if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
        r = fail_at(failure, CS_STAGE_LANDLOCK_RESTRICT, 0, errno);
    close(ruleset);
    return r;
}
