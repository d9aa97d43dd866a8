// PID 1 of the guest's initramfs: builds the guest's root from the host's root (read-only 9p) plus a tmpfs
// overlay, then hands over to the host's systemd. Built static by Scripts/guest; any failure powers the guest off,
// so the harness sees "no exit code" and prints the console tail.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void fail(const char *what) {
    dprintf(2, "guest-init: %s: %s\n", what, strerror(errno));
    reboot(RB_POWER_OFF);
    _exit(1);
}

static void check(int rc, const char *what) {
    if (rc != 0) fail(what);
}

// The storage and filesystem drivers are modules in Debian's kernel. Scripts/guest packs them as
// /modules/NN-name.ko so that the file name order is the dependency order.
static void load_modules(void) {
    struct dirent **entries;
    int n = scandir("/modules", &entries, NULL, alphasort);
    if (n < 0) fail("scandir /modules");
    for (int i = 0; i < n; i++) {
        if (entries[i]->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, "/modules/%s", entries[i]->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail(path);
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) fail(path);
        close(fd);
    }
}

int main(int argc, char **argv) {
    (void)argc;
    load_modules();

    mkdir("/lower", 0755);
    mkdir("/layer", 0755);
    mkdir("/newroot", 0755);
    check(mount("hostroot", "/lower", "9p", MS_RDONLY,
                "trans=virtio,version=9p2000.L,cache=loose"), "mount 9p hostroot");
    check(mount("layer", "/layer", "tmpfs", 0, "mode=0755"), "mount tmpfs for overlay");
    check(mkdir("/layer/upper", 0755), "mkdir upper");
    check(mkdir("/layer/work", 0755), "mkdir work");
    check(mount("overlay", "/newroot", "overlay", 0,
                "lowerdir=/lower,upperdir=/layer/upper,workdir=/layer/work"), "mount overlay");

    // With /.dockerenv present systemd believes it runs in a container.
    if (unlink("/newroot/.dockerenv") != 0 && errno != ENOENT) fail("unlink /.dockerenv");

    // systemd expects an empty tmpfs /run; the masked tmpfiles setup would otherwise create these two.
    check(mount("run", "/newroot/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), "mount tmpfs /run");
    check(mkdir("/newroot/run/user", 0755), "mkdir /run/user");
    check(mkdir("/newroot/run/lock", 01777), "mkdir /run/lock");
    chmod("/newroot/run/lock", 01777);
    check(mkdir("/newroot/run/guest", 0755), "mkdir /run/guest");
    // No cache: the host tails stdout/stderr while the command runs.
    check(mount("results", "/newroot/run/guest", "9p", MS_NOSUID | MS_NODEV,
                "trans=virtio,version=9p2000.L"), "mount 9p results");

    check(chdir("/newroot"), "chdir /newroot");
    check(mount(".", "/", NULL, MS_MOVE, NULL), "move root");
    check(chroot("."), "chroot");
    check(chdir("/"), "chdir /");

    // The trailing colon keeps the normal unit paths; skipping generators saves seconds under TCG.
    setenv("SYSTEMD_UNIT_PATH", "/run/guest/units:", 1);
    setenv("SYSTEMD_GENERATOR_PATH", "/run/guest/no-generators", 1);
    setenv("SYSTEMD_ENVIRONMENT_GENERATOR_PATH", "/run/guest/no-generators", 1);
    argv[0] = "/lib/systemd/systemd";
    execv(argv[0], argv);
    fail("exec /lib/systemd/systemd");
}
