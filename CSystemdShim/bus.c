// A connection to systemd's manager, owned by one pump thread.
//
// sd-bus objects are not thread-safe, and a gateway starts many servers at once: so every call takes a recursive
// lock, sends its message asynchronously, and returns; the pump thread dispatches replies and JobRemoved signals (under
// the same lock) and completes each request through its callback. Nobody waits for anyone else's job.
#include "CSystemdShim.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#define MANAGER_SERVICE "org.freedesktop.systemd1"
#define MANAGER_PATH "/org/freedesktop/systemd1"
#define MANAGER_INTERFACE "org.freedesktop.systemd1.Manager"

// How long a start or stop job may take before we give up on it. crun waits 30 s; a loaded TCG guest needs more.
#define JOB_TIMEOUT_USEC (90ULL * 1000 * 1000)
// JobRemoved signals that named no known job yet, kept in case a signal ever overtakes its method reply.
#define ORPHANS 32

typedef enum payload { PAYLOAD_NONE, PAYLOAD_JOB, PAYLOAD_PROPERTY, PAYLOAD_UNITS } payload;

typedef struct request {
    struct cs_bus *bus;
    cs_completion done;
    void *context;
    payload payload;
    char *job;  // the job awaited, once the method reply named it
    uint64_t deadline;
    struct request *next;
} request;

typedef struct orphan {
    char *job;
    char *result;
} orphan;

struct cs_bus {
    cs_bus_scope scope;
    sd_bus *bus;  // NULL after the connection broke; the next call reconnects
    pthread_mutex_t lock;
    pthread_t thread;
    int wake;
    bool stopping;
    request *requests;
    orphan orphans[ORPHANS];
    unsigned next_orphan;
};

static uint64_t now_usec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void fill_error(cs_result *r, const sd_bus_error *e) {
    if (e && sd_bus_error_is_set(e)) {
        r->error_name = e->name;
        r->error_message = e->message;
    }
}

static void unlink_request(cs_bus *b, request *q) {
    for (request **p = &b->requests; *p; p = &(*p)->next)
        if (*p == q) {
            *p = q->next;
            return;
        }
}

static void finish(cs_bus *b, request *q, int status, const sd_bus_error *e, const char *text, uint64_t number) {
    cs_result r = {.status = status, .text = text, .number = number};
    fill_error(&r, e);
    unlink_request(b, q);
    q->done(q->context, &r);
    free(q->job);
    free(q);
}

static void fail_all(cs_bus *b, int status) {
    while (b->requests) finish(b, b->requests, status, NULL, NULL, 0);
}

// MARK: connecting

static const char *runtime_directory(char *buffer, size_t size) {
    const char *env = getenv("XDG_RUNTIME_DIR");
    if (env && env[0] == '/') return env;
    snprintf(buffer, size, "/run/user/%u", (unsigned)getuid());
    return buffer;
}

static int connect_address(const char *address, bool bus_client, sd_bus **out) {
    sd_bus *bus = NULL;
    int r = sd_bus_new(&bus);
    if (r >= 0) r = sd_bus_set_address(bus, address);
    if (r >= 0) r = sd_bus_set_bus_client(bus, bus_client);
    if (r >= 0) r = sd_bus_start(bus);
    if (r < 0) {
        sd_bus_unref(bus);
        return r;
    }
    *out = bus;
    return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error);

// The manager's private socket skips the bus daemon (as systemctl does as root); the bus is the fallback.
static int connect_manager(cs_bus_scope scope, sd_bus **out, char *description, size_t size) {
    char runtime[64], address[256];
    int r;
    if (scope == CS_BUS_SYSTEM) {
        if (geteuid() == 0 && connect_address("unix:path=/run/systemd/private", false, out) >= 0) {
            snprintf(description, size, "the system manager (/run/systemd/private)");
            return 0;
        }
        r = sd_bus_open_system(out);
        snprintf(description, size, "the system bus");
        return r;
    }
    const char *dir = runtime_directory(runtime, sizeof runtime);
    snprintf(address, sizeof address, "unix:path=%s/systemd/private", dir);
    if (connect_address(address, false, out) >= 0) {
        snprintf(description, size, "the user manager (%s/systemd/private)", dir);
        return 0;
    }
    const char *session = getenv("DBUS_SESSION_BUS_ADDRESS");
    if (session && *session)
        snprintf(address, sizeof address, "%s", session);
    else
        snprintf(address, sizeof address, "unix:path=%s/bus", dir);
    snprintf(description, size, "the user bus (%s)", address);
    return connect_address(address, true, out);
}

// Called with the lock held.
static int ensure_connected(cs_bus *b, char *description, size_t size, cs_result *failure) {
    if (b->bus && sd_bus_is_open(b->bus) > 0) return 0;
    if (b->bus) b->bus = sd_bus_flush_close_unref(b->bus);
    char ignored[160];
    if (!description) {
        description = ignored;
        size = sizeof ignored;
    }
    sd_bus *bus = NULL;
    int r = connect_manager(b->scope, &bus, description, size);
    if (r < 0) {
        if (failure) failure->status = r;
        return r;
    }
    // Subscribe before any job can be created, as systemd-run does. Signals on a direct connection have no sender.
    r = sd_bus_match_signal_async(bus, NULL, sd_bus_is_bus_client(bus) > 0 ? MANAGER_SERVICE : NULL, MANAGER_PATH,
                                  MANAGER_INTERFACE, "JobRemoved", on_job_removed, NULL, b);
    if (r < 0) {
        sd_bus_flush_close_unref(bus);
        if (failure) failure->status = r;
        return r;
    }
    b->bus = bus;
    return 0;
}

// MARK: the pump thread

static void kick(cs_bus *b) {
    uint64_t one = 1;
    (void)!write(b->wake, &one, sizeof one);
}

static void expire_jobs(cs_bus *b, uint64_t now) {
    for (request *q = b->requests, *next; q; q = next) {
        next = q->next;
        if (q->job && q->deadline <= now) finish(b, q, -ETIMEDOUT, NULL, "timeout", 0);
    }
}

static void *pump(void *arg) {
    cs_bus *b = arg;
    for (;;) {
        struct pollfd fds[2] = {{.fd = b->wake, .events = POLLIN}, {.fd = -1}};
        uint64_t deadline = UINT64_MAX;

        pthread_mutex_lock(&b->lock);
        if (b->stopping) {
            pthread_mutex_unlock(&b->lock);
            return NULL;
        }
        if (b->bus) {
            int r;
            while ((r = sd_bus_process(b->bus, NULL)) > 0) {}
            if (r < 0 || sd_bus_is_open(b->bus) <= 0) {
                // The manager or bus daemon went away: pending work fails, the next call reconnects.
                fail_all(b, r < 0 ? r : -ECONNRESET);
                b->bus = sd_bus_flush_close_unref(b->bus);
            }
        }
        expire_jobs(b, now_usec());
        if (b->bus) {
            fds[1].fd = sd_bus_get_fd(b->bus);
            fds[1].events = (short)sd_bus_get_events(b->bus);
            sd_bus_get_timeout(b->bus, &deadline);
        }
        for (request *q = b->requests; q; q = q->next)
            if (q->job && q->deadline < deadline) deadline = q->deadline;
        pthread_mutex_unlock(&b->lock);

        int timeout = -1;
        if (deadline != UINT64_MAX) {
            uint64_t now = now_usec();
            timeout = deadline <= now ? 0 : (int)((deadline - now + 999) / 1000);
        }
        if (poll(fds, fds[1].fd >= 0 ? 2 : 1, timeout) > 0 && (fds[0].revents & POLLIN)) {
            uint64_t count;
            (void)!read(b->wake, &count, sizeof count);
        }
    }
}

int cs_bus_open(cs_bus_scope scope, cs_bus **out, char *description, size_t description_size, cs_result *failure) {
    *out = NULL;
    memset(failure, 0, sizeof *failure);
    cs_bus *b = calloc(1, sizeof *b);
    if (!b) return failure->status = -ENOMEM;
    b->scope = scope;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&b->lock, &attr);
    pthread_mutexattr_destroy(&attr);

    int r = ensure_connected(b, description, description_size, failure);
    if (r >= 0) {
        b->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (b->wake < 0) r = -errno;
    }
    if (r >= 0) {
        r = -pthread_create(&b->thread, NULL, pump, b);
        if (r < 0) close(b->wake);
    }
    if (r < 0) {
        sd_bus_flush_close_unref(b->bus);
        pthread_mutex_destroy(&b->lock);
        free(b);
        return failure->status = r;
    }
    *out = b;
    return 0;
}

void cs_bus_close(cs_bus *b) {
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    pthread_mutex_unlock(&b->lock);
    kick(b);
    pthread_join(b->thread, NULL);
    fail_all(b, -ECONNRESET);
    sd_bus_flush_close_unref(b->bus);
    for (unsigned i = 0; i < ORPHANS; i++) {
        free(b->orphans[i].job);
        free(b->orphans[i].result);
    }
    close(b->wake);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

// MARK: replies and signals

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
    (void)error;
    cs_bus *b = userdata;
    uint32_t id;
    const char *job, *unit, *result;
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
    for (request *q = b->requests; q; q = q->next)
        if (q->job && strcmp(q->job, job) == 0) {
            finish(b, q, strcmp(result, "done") == 0 ? 0 : -EIO, NULL, result, 0);
            return 0;
        }
    // Most removals belong to other clients' jobs. Remember a few in case ours overtook its reply.
    orphan *o = &b->orphans[b->next_orphan++ % ORPHANS];
    free(o->job);
    free(o->result);
    o->job = strdup(job);
    o->result = strdup(result);
    return 0;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
    (void)error;
    request *q = userdata;
    cs_bus *b = q->bus;
    const sd_bus_error *e = sd_bus_message_get_error(m);
    if (e) {
        finish(b, q, -sd_bus_message_get_errno(m), e, NULL, 0);
        return 0;
    }
    switch (q->payload) {
    case PAYLOAD_NONE:
        finish(b, q, 0, NULL, NULL, 0);
        break;
    case PAYLOAD_JOB: {
        const char *job;
        int r = sd_bus_message_read(m, "o", &job);
        if (r < 0) {
            finish(b, q, r, NULL, NULL, 0);
            break;
        }
        for (unsigned i = 0; i < ORPHANS; i++)
            if (b->orphans[i].job && strcmp(b->orphans[i].job, job) == 0) {
                const char *result = b->orphans[i].result;
                finish(b, q, strcmp(result, "done") == 0 ? 0 : -EIO, NULL, result, 0);
                return 0;
            }
        q->job = strdup(job);
        q->deadline = now_usec() + JOB_TIMEOUT_USEC;
        if (!q->job) finish(b, q, -ENOMEM, NULL, NULL, 0);
        break;
    }
    case PAYLOAD_PROPERTY: {
        char type;
        const char *contents;
        int r = sd_bus_message_peek_type(m, &type, &contents);
        if (r >= 0) r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
        if (r < 0) {
            finish(b, q, r, NULL, NULL, 0);
            break;
        }
        if (strcmp(contents, "s") == 0 || strcmp(contents, "o") == 0) {
            const char *s;
            r = sd_bus_message_read_basic(m, contents[0], &s);
            finish(b, q, r < 0 ? r : 0, NULL, r < 0 ? NULL : s, 0);
        } else if (strcmp(contents, "as") == 0) {
            char **list = NULL;
            r = sd_bus_message_read_strv(m, &list);
            size_t total = 1;
            for (char **s = list; s && *s; s++) total += strlen(*s) + 1;
            char *text = calloc(1, total);
            for (char **s = list; text && s && *s; s++) strcat(strcat(text, *s), "\n");
            finish(b, q, r < 0 ? r : (text ? 0 : -ENOMEM), NULL, text, 0);
            free(text);
            for (char **s = list; s && *s; s++) free(*s);
            free(list);
        } else {
            union {
                uint64_t t;
                int64_t x;
                uint32_t u;
                int32_t i;
                int b;
            } v = {0};
            uint64_t number = 0;
            r = sd_bus_message_read_basic(m, contents[0], &v);
            switch (contents[0]) {
            case 't': number = v.t; break;
            case 'x': number = (uint64_t)v.x; break;
            case 'u': number = v.u; break;
            case 'i': number = (uint64_t)(int64_t)v.i; break;
            case 'b': number = v.b != 0; break;
            default: r = r < 0 ? r : -EOPNOTSUPP;
            }
            finish(b, q, r < 0 ? r : 0, NULL, NULL, number);
        }
        break;
    }
    case PAYLOAD_UNITS: {
        const char *name, *description, *load, *active, *sub, *following, *path, *job_type, *job_path;
        uint32_t job_id;
        size_t size = 0;
        char *text = NULL;
        FILE *out = open_memstream(&text, &size);
        int r = out ? sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "(ssssssouso)") : -ENOMEM;
        while (r >= 0 && (r = sd_bus_message_read(m, "(ssssssouso)", &name, &description, &load, &active, &sub,
                                                   &following, &path, &job_id, &job_type, &job_path)) > 0)
            fprintf(out, "%s\t%s\t%s\t%s\n", name, active, sub, description);
        if (out) fclose(out);
        finish(b, q, r < 0 ? r : 0, NULL, text ? text : "", 0);
        free(text);
        break;
    }
    }
    return 0;
}

// MARK: requests

// Takes the lock and makes sure there is a connection. On success the lock stays held for send().
static int begin(cs_bus *b) {
    pthread_mutex_lock(&b->lock);
    int r = ensure_connected(b, NULL, 0, NULL);
    if (r < 0) pthread_mutex_unlock(&b->lock);
    return r;
}

// Sends a method call that was built without error (r >= 0), registers its request, and releases the lock taken by
// begin(). On an earlier error (r < 0) it only cleans up.
static int send(cs_bus *b, int r, sd_bus_message *m, payload payload, cs_completion done, void *context) {
    request *q = r >= 0 ? calloc(1, sizeof *q) : NULL;
    if (r >= 0 && !q) r = -ENOMEM;
    if (r >= 0) {
        *q = (request){.bus = b, .done = done, .context = context, .payload = payload, .next = b->requests};
        // A floating slot: sd-bus frees it after the reply; the request lives in our list until it is finished.
        r = sd_bus_call_async(b->bus, NULL, m, on_reply, q, 0);
    }
    if (r >= 0)
        b->requests = q;
    else
        free(q);
    sd_bus_message_unref(m);
    pthread_mutex_unlock(&b->lock);
    if (r >= 0) kick(b);
    return r;
}

static int new_call(cs_bus *b, const char *member, sd_bus_message **m) {
    return sd_bus_message_new_method_call(b->bus, m, MANAGER_SERVICE, MANAGER_PATH, MANAGER_INTERFACE, member);
}

static int append_property(sd_bus_message *m, const cs_property *p) {
    int r = sd_bus_message_open_container(m, SD_BUS_TYPE_STRUCT, "sv");
    if (r >= 0) r = sd_bus_message_append_basic(m, 's', p->name);
    switch (p->type) {
    case CS_PROP_STRING:
        if (r >= 0) r = sd_bus_message_append(m, "v", "s", p->string ? p->string : "");
        break;
    case CS_PROP_BOOL:
        if (r >= 0) r = sd_bus_message_append(m, "v", "b", (int)(p->number != 0));
        break;
    case CS_PROP_UINT64:
        if (r >= 0) r = sd_bus_message_append(m, "v", "t", p->number);
        break;
    case CS_PROP_UINT32:
        if (r >= 0) r = sd_bus_message_append(m, "v", "u", (uint32_t)p->number);
        break;
    case CS_PROP_INT32:
        if (r >= 0) r = sd_bus_message_append(m, "v", "i", (int32_t)p->number);
        break;
    case CS_PROP_STRINGS:
        if (r >= 0) r = sd_bus_message_open_container(m, SD_BUS_TYPE_VARIANT, "as");
        if (r >= 0) r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "s");
        for (size_t i = 0; r >= 0 && i < p->count; i++) r = sd_bus_message_append_basic(m, 's', p->strings[i]);
        if (r >= 0) r = sd_bus_message_close_container(m);
        if (r >= 0) r = sd_bus_message_close_container(m);
        break;
    case CS_PROP_PIDS:
        if (r >= 0) r = sd_bus_message_open_container(m, SD_BUS_TYPE_VARIANT, "au");
        if (r >= 0) r = sd_bus_message_append_array(m, 'u', p->pids, p->count * sizeof(uint32_t));
        if (r >= 0) r = sd_bus_message_close_container(m);
        break;
    default:
        r = -EINVAL;
    }
    if (r >= 0) r = sd_bus_message_close_container(m);
    return r;
}

static int append_properties(sd_bus_message *m, const cs_property *properties, size_t count) {
    int r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "(sv)");
    for (size_t i = 0; r >= 0 && i < count; i++) r = append_property(m, &properties[i]);
    if (r >= 0) r = sd_bus_message_close_container(m);
    return r;
}

// PIDs, not PIDFDs: the process moved into a scope is our own gated, unreaped child (or ourselves), so its PID cannot
// be reused under us, and PIDs works on every systemd version without a failed round trip first.
int cs_bus_start_transient_unit(cs_bus *b, const char *unit, const cs_property *properties, size_t count,
                                const char *aux_unit, const cs_property *aux_properties, size_t aux_count,
                                cs_completion done, void *context) {
    sd_bus_message *m = NULL;
    int r = begin(b);
    if (r < 0) return r;
    r = new_call(b, "StartTransientUnit", &m);
    if (r >= 0) r = sd_bus_message_append(m, "ss", unit, "fail");
    if (r >= 0) r = append_properties(m, properties, count);
    if (r >= 0) r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "(sa(sv))");
    if (r >= 0 && aux_unit) {
        r = sd_bus_message_open_container(m, SD_BUS_TYPE_STRUCT, "sa(sv)");
        if (r >= 0) r = sd_bus_message_append_basic(m, 's', aux_unit);
        if (r >= 0) r = append_properties(m, aux_properties, aux_count);
        if (r >= 0) r = sd_bus_message_close_container(m);
    }
    if (r >= 0) r = sd_bus_message_close_container(m);
    return send(b, r, m, PAYLOAD_JOB, done, context);
}

int cs_bus_stop_unit(cs_bus *b, const char *unit, cs_completion done, void *context) {
    sd_bus_message *m = NULL;
    int r = begin(b);
    if (r < 0) return r;
    r = new_call(b, "StopUnit", &m);
    if (r >= 0) r = sd_bus_message_append(m, "ss", unit, "fail");
    return send(b, r, m, PAYLOAD_JOB, done, context);
}

int cs_bus_kill_unit(cs_bus *b, const char *unit, const char *who, int signal, cs_completion done, void *context) {
    sd_bus_message *m = NULL;
    int r = begin(b);
    if (r < 0) return r;
    r = new_call(b, "KillUnit", &m);
    if (r >= 0) r = sd_bus_message_append(m, "ssi", unit, who, signal);
    return send(b, r, m, PAYLOAD_NONE, done, context);
}

int cs_bus_reset_failed_unit(cs_bus *b, const char *unit, cs_completion done, void *context) {
    sd_bus_message *m = NULL;
    int r = begin(b);
    if (r < 0) return r;
    r = new_call(b, "ResetFailedUnit", &m);
    if (r >= 0) r = sd_bus_message_append(m, "s", unit);
    return send(b, r, m, PAYLOAD_NONE, done, context);
}

int cs_bus_reload(cs_bus *b, cs_completion done, void *context) {
    sd_bus_message *m = NULL;
    int r = begin(b);
    if (r < 0) return r;
    r = new_call(b, "Reload", &m);
    return send(b, r, m, PAYLOAD_NONE, done, context);
}

int cs_bus_set_unit_properties(cs_bus *b, const char *unit, int runtime, const cs_property *properties, size_t count,
                               cs_completion done, void *context) {
    sd_bus_message *m = NULL;
    int r = begin(b);
    if (r < 0) return r;
    r = new_call(b, "SetUnitProperties", &m);
    if (r >= 0) r = sd_bus_message_append(m, "sb", unit, runtime != 0);
    if (r >= 0) r = append_properties(m, properties, count);
    return send(b, r, m, PAYLOAD_NONE, done, context);
}

int cs_bus_get_property(cs_bus *b, const char *unit, const char *interface, const char *property, cs_completion done,
                        void *context) {
    sd_bus_message *m = NULL;
    char *path = NULL;
    int r = begin(b);
    if (r < 0) return r;
    r = unit ? sd_bus_path_encode(MANAGER_PATH "/unit", unit, &path) : 0;
    if (r >= 0)
        r = sd_bus_message_new_method_call(b->bus, &m, MANAGER_SERVICE, path ? path : MANAGER_PATH,
                                           "org.freedesktop.DBus.Properties", "Get");
    free(path);
    if (r >= 0) r = sd_bus_message_append(m, "ss", interface, property);
    return send(b, r, m, PAYLOAD_PROPERTY, done, context);
}

int cs_bus_list_units(cs_bus *b, const char *const *patterns, size_t count, cs_completion done, void *context) {
    sd_bus_message *m = NULL;
    int r = begin(b);
    if (r < 0) return r;
    r = new_call(b, "ListUnitsByPatterns", &m);
    if (r >= 0) r = sd_bus_message_append(m, "as", 0);
    if (r >= 0) r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "s");
    for (size_t i = 0; r >= 0 && i < count; i++) r = sd_bus_message_append_basic(m, 's', patterns[i]);
    if (r >= 0) r = sd_bus_message_close_container(m);
    return send(b, r, m, PAYLOAD_UNITS, done, context);
}
