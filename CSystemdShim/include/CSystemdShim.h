// CSystemdShim: the only place Corral touches C, libsystemd and libseccomp.
//
// Why C at all: sd_bus_message_append and the seccomp rule calls are variadic or macros that Swift cannot call, sd-bus
// is not thread-safe and wants one owner thread, and the code between fork and exec must be async-signal-safe.
//
// One convention throughout: functions return 0 (or a non-negative count) on success and -errno on failure. When a
// failure came from the bus, the D-Bus error name and message are filled in as well.
#ifndef CSYSTEMDSHIM_H
#define CSYSTEMDSHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/types.h>

#pragma clang assume_nonnull begin

// MARK: - Bus

/// A connection to a systemd manager, pumped by its own thread. Safe to use from any thread.
typedef struct cs_bus cs_bus;

/// What a bus operation reports when it completes. `status` is 0 or -errno; on a D-Bus error `error_name` and
/// `error_message` say what the peer said. `text` carries the operation's payload (a job result, a property value,
/// or unit records), `number` a numeric property value.
typedef struct cs_result {
    int status;
    const char *_Nullable error_name;
    const char *_Nullable error_message;
    const char *_Nullable text;
    uint64_t number;
} cs_result;

/// Called exactly once per operation, on the bus thread. Must not block.
typedef void (*cs_completion)(void *_Nullable context, const cs_result *result);

/// Which manager a connection talks to.
typedef enum cs_bus_scope { CS_BUS_SYSTEM = 0, CS_BUS_USER = 1 } cs_bus_scope;

/// Connects to the system or user manager: the manager's private socket when it is reachable (no bus daemon in the
/// path, like systemctl and systemd-run), the bus otherwise. The user bus is found even without XDG_RUNTIME_DIR and
/// DBUS_SESSION_BUS_ADDRESS, which MCP clients do not pass on. `description` receives what was connected to.
int cs_bus_open(cs_bus_scope scope, cs_bus *_Nullable *_Nonnull out, char *description, size_t description_size,
                cs_result *failure);

/// Closes the connection and stops its thread. Completions still pending are called with -ECONNRESET first.
void cs_bus_close(cs_bus *bus);

/// The D-Bus signature of one unit property value.
typedef enum cs_property_type {
    CS_PROP_STRING = 's',
    CS_PROP_BOOL = 'b',
    CS_PROP_UINT64 = 't',
    CS_PROP_UINT32 = 'u',
    CS_PROP_INT32 = 'i',
    CS_PROP_STRINGS = 'S',  // "as": `strings` holds `count` strings
    CS_PROP_PIDS = 'P',     // "au": `pids` holds `count` process IDs
} cs_property_type;

/// One unit property, as in systemd's `a(sv)` property arrays.
typedef struct cs_property {
    const char *name;
    cs_property_type type;
    const char *_Nullable string;
    uint64_t number;
    const char *_Nonnull const *_Nullable strings;
    const uint32_t *_Nullable pids;
    size_t count;
} cs_property;

/// StartTransientUnit(name, "fail", properties, aux) and then waits for the start job's JobRemoved, like systemd-run.
/// `aux_unit`, when not NULL, is one auxiliary unit created in the same call with `aux_properties` (a unit the main
/// one refers to, such as its slice). Completes with text = the job result ("done" on success; anything else has
/// status -EIO).
int cs_bus_start_transient_unit(cs_bus *bus, const char *unit, const cs_property *properties, size_t count,
                                const char *_Nullable aux_unit, const cs_property *_Nullable aux_properties,
                                size_t aux_count, cs_completion done, void *_Nullable context);

/// StopUnit(name, "fail") and then waits for the stop job, as crun's teardown does (crun sends "replace"; "fail"
/// leaves a job already queued for the unit alone and fails instead). A unit that is already gone
/// completes with the NoSuchUnit D-Bus error.
int cs_bus_stop_unit(cs_bus *bus, const char *unit, cs_completion done, void *_Nullable context);

/// KillUnit(name, who, signal): signals processes of the unit without stopping it.
int cs_bus_kill_unit(cs_bus *bus, const char *unit, const char *who, int signal, cs_completion done,
                     void *_Nullable context);

/// ResetFailedUnit(name).
int cs_bus_reset_failed_unit(cs_bus *bus, const char *unit, cs_completion done, void *_Nullable context);

/// Reload(): the manager rereads unit files, like `systemctl daemon-reload`. Completes when the reload is done.
int cs_bus_reload(cs_bus *bus, cs_completion done, void *_Nullable context);

/// SetUnitProperties(name, runtime, properties).
int cs_bus_set_unit_properties(cs_bus *bus, const char *unit, int runtime, const cs_property *properties, size_t count,
                               cs_completion done, void *_Nullable context);

/// Reads one property. `unit` NULL means the manager object. A string, object path or string-array property
/// completes with text (array elements separated by newlines); an integer or boolean property with number.
int cs_bus_get_property(cs_bus *bus, const char *_Nullable unit, const char *interface, const char *property,
                        cs_completion done, void *_Nullable context);

/// ListUnitsByPatterns([], patterns). Completes with text holding one line per unit:
/// "name\tactive_state\tsub_state\tdescription\n".
int cs_bus_list_units(cs_bus *bus, const char *_Nonnull const *_Nonnull patterns, size_t count, cs_completion done,
                      void *_Nullable context);

// MARK: - seccomp

/// What a seccomp rule does.
typedef enum cs_seccomp_action {
    CS_SECCOMP_ALLOW = 0,
    CS_SECCOMP_ERRNO = 1,
    CS_SECCOMP_KILL_PROCESS = 2,
    CS_SECCOMP_KILL_THREAD = 3,
    CS_SECCOMP_TRAP = 4,
    CS_SECCOMP_LOG = 5,
} cs_seccomp_action;

/// A comparison against one syscall argument (libseccomp's `scmp_arg_cmp`).
typedef struct cs_seccomp_arg {
    unsigned index;
    int op;  // 1 NE, 2 LT, 3 LE, 4 EQ, 5 GE, 6 GT, 7 MASKED_EQ (libseccomp's enum scmp_compare)
    uint64_t value;
    uint64_t value_two;
} cs_seccomp_arg;

/// One rule: a syscall by name, an action, and up to six argument comparisons that must all hold.
typedef struct cs_seccomp_rule {
    const char *syscall;
    cs_seccomp_action action;
    int errno_value;
    cs_seccomp_arg args[6];
    unsigned arg_count;
} cs_seccomp_rule;

/// Compiles rules into a classic BPF program for the native architecture (plus `extra_arches`, given as AUDIT_ARCH
/// values). Foreign architectures kill the process. Syscall names this libseccomp does not know are skipped (see
/// cs_seccomp_syscall_known). On success `*program` is malloc'd BPF (`*length` bytes) for cs_spawn. An invalid rule
/// fails with -EINVAL and its syscall name in `failed_syscall`.
int cs_seccomp_compile(cs_seccomp_action default_action, int default_errno, const cs_seccomp_rule *rules, size_t count,
                       const uint32_t *extra_arches, size_t arch_count, uint8_t *_Nullable *_Nonnull program,
                       size_t *length, char *failed_syscall, size_t failed_syscall_size);

/// Whether libseccomp knows the syscall `name` on the native architecture.
bool cs_seccomp_syscall_known(const char *name);

/// The native architecture's AUDIT_ARCH value, and the one for a libseccomp name such as "SCMP_ARCH_X86" (0 if unknown).
uint32_t cs_seccomp_arch(const char *_Nullable name);

// MARK: - Spawn

/// A child to start held at a gate: it runs no code of its own until cs_spawn_release.
typedef struct cs_spawn_spec {
    const char *path;  // already resolved; no PATH search happens after fork
    char *_Nullable const *_Nonnull argv;
    char *_Nullable const *_Nonnull envp;
    const char *_Nullable directory;
    int stdin_fd, stdout_fd, stderr_fd;  // -1: inherit
    const uint8_t *_Nullable seccomp_program;  // from cs_seccomp_compile, or NULL for none
    size_t seccomp_length;
    int oom_score_adj;  // applied when set_oom_score_adj is non-zero
    int set_oom_score_adj;
    int parent_death_signal;  // 0 for none
} cs_spawn_spec;

/// Where a child failed between fork and exec.
typedef enum cs_spawn_stage {
    CS_STAGE_NONE = 0,
    CS_STAGE_STDIO,
    CS_STAGE_CHDIR,
    CS_STAGE_PARENT_DEATH_SIGNAL,
    CS_STAGE_OOM_SCORE_ADJ,
    CS_STAGE_NO_NEW_PRIVS,
    CS_STAGE_SECCOMP,
    CS_STAGE_EXEC,
} cs_spawn_stage;

/// Forks a child that waits at the gate. `*gate` is the parent's end, for cs_spawn_release or cs_spawn_abort.
int cs_spawn_gated(const cs_spawn_spec *spec, pid_t *pid, int *gate);

/// Opens the gate: the child applies oom_score_adj, no_new_privs and seccomp, then execs. Returns 0 once the exec
/// happened, or -errno with `*stage` naming the step that failed (the child has then exited with status 127 or 126).
int cs_spawn_release(int gate, cs_spawn_stage *stage);

/// Applies `spec` to the calling process itself (oom_score_adj, no_new_privs, seccomp) and execs, as
/// `corral run --exec` does once it stands in its scope. The stdio fields and parent_death_signal are ignored. Returns
/// only on failure: -errno, with `*stage` naming the step.
int cs_exec(const cs_spawn_spec *spec, cs_spawn_stage *stage);

/// Kills a gated child that must never run, reaps it and closes the gate.
void cs_spawn_abort(pid_t pid, int gate);

// MARK: - Journal

/// Sends one structured entry ("MESSAGE=...", "PRIORITY=4", "CORRAL_SERVER=...") to the journal.
int cs_journal_send(const char *_Nonnull const *_Nonnull fields, size_t count);

// MARK: - Small wrappers Swift cannot reach

/// pipe2(fds, O_CLOEXEC).
int cs_pipe_cloexec(int fds[_Nonnull 2]);

/// A signalfd for `signals` (0-terminated), which are blocked in the calling thread's mask first.
int cs_signalfd(const int *signals);

/// Reads one signal from a signalfd: its number and whether it came from the kernel (e.g. a terminal's ^C, which the
/// whole foreground process group already received) rather than from kill(2).
int cs_signalfd_read(int fd, int *signal, int *from_kernel);

/// pidfd_open(pid, 0).
int cs_pidfd_open(pid_t pid);

/// pidfd_send_signal(pidfd, signal, NULL, 0): signals a process without any risk of PID reuse.
int cs_pidfd_send_signal(int pidfd, int signal);

/// Opens a directory as an O_PATH descriptor (close-on-exec): a handle for openat that reads nothing itself.
int cs_open_directory(const char *path);

/// Whether `path` is on a cgroup v2 filesystem (statfs magic CGROUP2_SUPER_MAGIC): 1, 0, or -errno.
int cs_is_cgroup2(const char *path);

/// Whether the kernel accepts seccomp filters and no_new_privs in this process (read from /proc/self/status and a
/// harmless prctl probe).
int cs_seccomp_available(void);

#pragma clang assume_nonnull end

#endif
