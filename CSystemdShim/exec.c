// `corral run --exec` for a server that needs a user namespace: unshare(CLONE_NEWUSER) refuses a multithreaded
// process, and corral has threads by the time it stands in its scope. So it hands the spec to a fresh image of
// itself (same PID, so still in the scope) through a memfd; that image resumes while it is still single-threaded.
#include "CSystemdShim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

typedef struct writer {
    int fd;
    int error;
} writer;

static void put(writer *w, const void *data, size_t size) {
    const char *p = data;
    while (size > 0 && w->error == 0) {
        ssize_t n = write(w->fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) w->error = n < 0 ? errno : EIO;
        else p += n, size -= (size_t)n;
    }
}

static void put_number(writer *w, uint64_t value) { put(w, &value, sizeof value); }

// A string as its length plus one (0 for NULL), then its bytes with the NUL.
static void put_string(writer *w, const char *_Nullable text) {
    put_number(w, text ? strlen(text) + 1 : 0);
    if (text) put(w, text, strlen(text) + 1);
}

static void put_strings(writer *w, char *_Nullable const *list) {
    uint64_t count = 0;
    while (list[count]) count++;
    put_number(w, count);
    for (uint64_t i = 0; i < count; i++) put_string(w, list[i]);
}

int cs_exec_contained(const cs_spawn_spec *spec, const char *marker) {
    int fd = memfd_create("corral-spec", 0);  // not close-on-exec: the new image reads it
    if (fd < 0) return -errno;
    writer w = {fd, 0};
    const cs_containment *c = &spec->containment;
    put_string(&w, spec->path);
    put_string(&w, spec->directory);
    put_strings(&w, spec->argv);
    put_strings(&w, spec->envp);
    put_number(&w, spec->seccomp_length);
    if (spec->seccomp_program) put(&w, spec->seccomp_program, spec->seccomp_length);
    put_number(&w, (uint64_t)(int64_t)spec->oom_score_adj);
    put_number(&w, (uint64_t)spec->set_oom_score_adj);
    put_number(&w, c->flags);
    put_string(&w, c->uid_map);
    put_string(&w, c->gid_map);
    put_number(&w, c->hidden_count);
    for (size_t i = 0; i < c->hidden_count; i++) put_string(&w, c->hidden[i]);
    put_number(&w, c->uid);
    put_number(&w, c->gid);
    put_number(&w, c->group_count);
    if (c->group_count) put(&w, c->groups, c->group_count * sizeof(gid_t));
    put_number(&w, c->capabilities);
    put_number(&w, (uint64_t)(int64_t)c->last_capability);
    put_number(&w, c->cover_count);
    for (size_t i = 0; i < c->cover_count; i++) {
        put_string(&w, c->covers[i].path);
        put_number(&w, (uint64_t)c->covers[i].directory);
    }
    const cs_landlock *l = &c->landlock;
    put_number(&w, l->handled_fs);
    put_number(&w, l->handled_net);
    put_number(&w, l->path_count);
    for (size_t i = 0; i < l->path_count; i++) {
        put_string(&w, l->paths[i].path);
        put_number(&w, l->paths[i].access);
        put_number(&w, (uint64_t)l->paths[i].optional);
    }
    put_number(&w, l->port_count);
    if (l->port_count) put(&w, l->ports, l->port_count * sizeof *l->ports);
    if (w.error || lseek(fd, 0, SEEK_SET) < 0) {
        int e = w.error ? w.error : errno;
        close(fd);
        return -e;
    }
    char number[16];
    snprintf(number, sizeof number, "%d", fd);
    char *argv[] = {"corral", (char *)marker, number, (char *)spec->path, NULL};
    execve("/proc/self/exe", argv, environ);
    int e = errno;
    close(fd);
    return -e;
}

typedef struct reader {
    const char *at, *end;
    int bad;
} reader;

static const void *take(reader *r, size_t size) {
    if (r->bad || (size_t)(r->end - r->at) < size) {
        r->bad = 1;
        return NULL;
    }
    const void *p = r->at;
    r->at += size;
    return p;
}

static uint64_t take_number(reader *r) {
    uint64_t value = 0;
    const void *p = take(r, sizeof value);
    if (p) memcpy(&value, p, sizeof value);
    return value;
}

static const char *take_string(reader *r) {
    uint64_t size = take_number(r);
    const char *text = size ? take(r, size) : NULL;
    if (text && text[size - 1] != 0) r->bad = 1;
    return r->bad ? NULL : text;
}

static char **take_strings(reader *r) {
    uint64_t count = take_number(r);
    if (r->bad || count > (uint64_t)(r->end - r->at)) return r->bad = 1, NULL;
    char **list = calloc(count + 1, sizeof *list);
    for (uint64_t i = 0; list && i < count; i++) list[i] = (char *)take_string(r);
    return list;
}

int cs_exec_resume(int fd, cs_spawn_failure *failure) {
    *failure = (cs_spawn_failure){CS_STAGE_NONE, 0, 0};
    struct stat info;
    if (fstat(fd, &info) < 0) return -errno;
    char *data = malloc((size_t)info.st_size + 1);
    if (!data) return -ENOMEM;
    size_t have = 0;
    while (have < (size_t)info.st_size) {
        ssize_t n = read(fd, data + have, (size_t)info.st_size - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += (size_t)n;
    }
    close(fd);
    reader r = {data, data + have, 0};
    cs_spawn_spec spec = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    cs_containment *c = &spec.containment;
    spec.path = take_string(&r);
    spec.directory = take_string(&r);
    spec.argv = take_strings(&r);
    spec.envp = take_strings(&r);
    spec.seccomp_length = take_number(&r);
    spec.seccomp_program = spec.seccomp_length ? take(&r, spec.seccomp_length) : NULL;
    spec.oom_score_adj = (int)(int64_t)take_number(&r);
    spec.set_oom_score_adj = (int)take_number(&r);
    c->flags = (unsigned)take_number(&r);
    c->uid_map = take_string(&r);
    c->gid_map = take_string(&r);
    c->hidden_count = take_number(&r);
    const char **hidden = r.bad || c->hidden_count > have ? NULL : calloc(c->hidden_count + 1, sizeof *hidden);
    for (size_t i = 0; hidden && i < c->hidden_count; i++) hidden[i] = take_string(&r);
    c->hidden = hidden;
    c->uid = (uid_t)take_number(&r);
    c->gid = (gid_t)take_number(&r);
    c->group_count = take_number(&r);
    c->groups = c->group_count ? take(&r, c->group_count * sizeof(gid_t)) : NULL;
    c->capabilities = take_number(&r);
    c->last_capability = (int)(int64_t)take_number(&r);
    c->cover_count = take_number(&r);
    cs_cover *covers = r.bad || c->cover_count > have ? NULL : calloc(c->cover_count + 1, sizeof *covers);
    for (size_t i = 0; covers && i < c->cover_count; i++) {
        covers[i].path = take_string(&r);
        covers[i].directory = (int)take_number(&r);
        if (!covers[i].path) r.bad = 1;
    }
    c->covers = covers;
    cs_landlock *l = &c->landlock;
    l->handled_fs = take_number(&r);
    l->handled_net = take_number(&r);
    l->path_count = take_number(&r);
    cs_path_rule *paths = r.bad || l->path_count > have ? NULL : calloc(l->path_count + 1, sizeof *paths);
    for (size_t i = 0; paths && i < l->path_count; i++) {
        paths[i].path = take_string(&r);
        paths[i].access = take_number(&r);
        paths[i].optional = (int)take_number(&r);
        if (!paths[i].path) r.bad = 1;
    }
    l->paths = paths;
    l->port_count = take_number(&r);
    l->ports = l->port_count && l->port_count <= have ? take(&r, l->port_count * sizeof *l->ports) : NULL;
    if (r.bad || !spec.path || !spec.argv || !spec.envp || (c->hidden_count && !hidden) || !covers || !paths ||
        (l->port_count && !l->ports))
        return -EINVAL;
    return cs_exec(&spec, failure);
}
