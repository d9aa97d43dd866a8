// Compiles a seccomp filter to classic BPF in the parent, so the child between fork and exec only has to load it
// (crun does the same). libseccomp's calls take macros and variadic arguments, which Swift cannot call.
#include "CSystemdShim.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

static uint32_t to_libseccomp(cs_seccomp_action action, int errno_value) {
    switch (action) {
    case CS_SECCOMP_ALLOW: return SCMP_ACT_ALLOW;
    case CS_SECCOMP_ERRNO: return SCMP_ACT_ERRNO((uint16_t)errno_value);
    case CS_SECCOMP_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
    case CS_SECCOMP_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
    case CS_SECCOMP_TRAP: return SCMP_ACT_TRAP;
    case CS_SECCOMP_LOG: return SCMP_ACT_LOG;
    }
    return SCMP_ACT_KILL_PROCESS;
}

uint32_t cs_seccomp_arch(const char *name) {
    if (!name) return seccomp_arch_native();
    // libseccomp names its architectures "SCMP_ARCH_X86_64"; seccomp_arch_resolve_name wants "x86_64".
    const char *prefix = "SCMP_ARCH_";
    char lower[32];
    if (strncmp(name, prefix, strlen(prefix)) == 0) name += strlen(prefix);
    size_t i = 0;
    for (; name[i] && i < sizeof lower - 1; i++) lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lower[i] = 0;
    return seccomp_arch_resolve_name(lower);
}

static int export_bpf(scmp_filter_ctx ctx, uint8_t **program, size_t *length) {
    // libseccomp 2.5 exports only to a file descriptor: use a memfd and read it back.
    int fd = memfd_create("corral-seccomp", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    int r = seccomp_export_bpf(ctx, fd);
    off_t size = r < 0 ? -1 : lseek(fd, 0, SEEK_END);
    if (r >= 0 && size <= 0) r = size < 0 ? -errno : -EINVAL;
    uint8_t *buffer = r >= 0 ? malloc((size_t)size) : NULL;
    if (r >= 0 && !buffer) r = -ENOMEM;
    if (r >= 0 && pread(fd, buffer, (size_t)size, 0) != size) r = -EIO;
    close(fd);
    if (r < 0) {
        free(buffer);
        return r;
    }
    *program = buffer;
    *length = (size_t)size;
    return 0;
}

int cs_seccomp_compile(cs_seccomp_action default_action, int default_errno, const cs_seccomp_rule *rules, size_t count,
                       const uint32_t *extra_arches, size_t arch_count, uint8_t **program, size_t *length,
                       char *failed_syscall, size_t failed_syscall_size) {
    *program = NULL;
    *length = 0;
    if (failed_syscall_size) failed_syscall[0] = 0;

    scmp_filter_ctx ctx = seccomp_init(to_libseccomp(default_action, default_errno));
    if (!ctx) return -ENOMEM;
    // A syscall through a foreign ABI (x32, ia32 via int 0x80) would bypass a filter written for the native table.
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    // no_new_privs is set by the spawn shim itself, before the filter is loaded.
    if (r >= 0) r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    for (size_t i = 0; r >= 0 && i < arch_count; i++)
        if (extra_arches[i] != seccomp_arch_native()) {
            r = seccomp_arch_add(ctx, extra_arches[i]);
            if (r == -EEXIST) r = 0;
        }

    for (size_t i = 0; r >= 0 && i < count; i++) {
        const cs_seccomp_rule *rule = &rules[i];
        int nr = seccomp_syscall_resolve_name(rule->syscall);
        if (nr == __NR_SCMP_ERROR) continue;
        uint32_t action = to_libseccomp(rule->action, rule->errno_value);
        if (action == to_libseccomp(default_action, default_errno)) continue;  // libseccomp refuses no-op rules
        struct scmp_arg_cmp args[6];
        for (unsigned a = 0; a < rule->arg_count && a < 6; a++)
            args[a] = (struct scmp_arg_cmp){.arg = rule->args[a].index,
                                            .op = (enum scmp_compare)rule->args[a].op,
                                            .datum_a = rule->args[a].value,
                                            .datum_b = rule->args[a].value_two};
        r = seccomp_rule_add_array(ctx, action, nr, rule->arg_count > 6 ? 6 : rule->arg_count, args);
        if (r < 0 && failed_syscall_size) snprintf(failed_syscall, failed_syscall_size, "%s", rule->syscall);
    }
    if (r >= 0) r = export_bpf(ctx, program, length);
    seccomp_release(ctx);
    return r;
}

int cs_seccomp_available(void) {
    FILE *status = fopen("/proc/self/status", "re");
    if (!status) return -errno;
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, status))
        if (strncmp(line, "Seccomp:", 8) == 0) found = 1;
    fclose(status);
    if (!found) return -ENOSYS;
    // PR_GET_SECCOMP fails with EINVAL on a kernel built without seccomp.
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 ? -errno : 0;
}

bool cs_seccomp_syscall_known(const char *name) {
    return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}
