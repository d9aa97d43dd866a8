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

/// What the held child does to isolate itself between the gate and exec (contain.c), each step a flag.
typedef enum cs_contain_flag {
    /// Rootless: a user namespace of its own that maps the caller's uid and gid to themselves, so that the steps
    /// below are allowed.
    CS_CONTAIN_USER_NAMESPACE = 1 << 0,
    /// A cgroup namespace rooted at the scope and a private mount namespace in which /sys, /proc/sys and
    /// /proc/sysrq-trigger are read-only and /sys/fs/cgroup is a fresh read-only cgroup2 showing only the scope.
    CS_CONTAIN_NAMESPACES = 1 << 1,
    /// An empty read-only tmpfs over /run/user (root: every user's manager accepts uid 0 as a peer).
    CS_CONTAIN_HIDE_RUN_USER = 1 << 2,
    /// Root: securebits so that exec as uid 0 gains nothing, and every capability not in `capabilities` dropped
    /// from all sets (those kept become ambient).
    CS_CONTAIN_DROP_CAPABILITIES = 1 << 3,
    /// setgroups, setresgid and setresuid to `groups`, `gid` and `uid` (`--uid`, `--gid`).
    CS_CONTAIN_SET_IDS = 1 << 4,
    /// A network namespace of its own (with CS_CONTAIN_NAMESPACES), holding only a loopback device, left down.
    CS_CONTAIN_NETWORK = 1 << 5,
    /// With CS_CONTAIN_NETWORK: the namespace's loopback device brought up (127.0.0.1 and ::1 work inside it).
    CS_CONTAIN_LOOPBACK = 1 << 6,
    /// A Landlock domain made from `landlock` and enforced right before seccomp and exec.
    CS_CONTAIN_LANDLOCK = 1 << 7,
} cs_contain_flag;

/// A path the server must not see (`--hide`), covered in its mount namespace: a directory by an empty read-only
/// tmpfs, anything else by a bind of /dev/null mounted read-only and nodev (opening it is EACCES).
typedef struct cs_cover {
    const char *path;
    int directory;
} cs_cover;

/// One Landlock path rule: `access` (LANDLOCK_ACCESS_FS_* bits) is allowed beneath `path`. For a path that is not a
/// directory only the file rights of `access` are used. An `optional` path that cannot be opened is skipped.
typedef struct cs_path_rule {
    const char *path;
    uint64_t access;
    int optional;
} cs_path_rule;

/// One Landlock TCP port rule (ABI 4): `access` (LANDLOCK_ACCESS_NET_* bits) is allowed on `port`.
typedef struct cs_port_rule {
    uint64_t port;
    uint64_t access;
} cs_port_rule;

/// A Landlock ruleset: what it handles (so refuses unless a rule allows it) and its rules.
typedef struct cs_landlock {
    uint64_t handled_fs;   // LANDLOCK_ACCESS_FS_* bits
    uint64_t handled_net;  // LANDLOCK_ACCESS_NET_* bits (ABI 4)
    const cs_path_rule *_Nullable paths;
    size_t path_count;
    const cs_port_rule *_Nullable ports;
    size_t port_count;
} cs_landlock;

/// The isolation of one child, prepared entirely by the parent (the child only makes raw syscalls).
typedef struct cs_containment {
    unsigned flags;                      // cs_contain_flag bits
    const char *_Nullable uid_map;       // "U U 1", for CS_CONTAIN_USER_NAMESPACE
    const char *_Nullable gid_map;       // "G G 1"
    const char *_Nonnull const *_Nullable hidden;  // sockets covered by /dev/null (missing ones are skipped)
    size_t hidden_count;
    uid_t uid;                           // for CS_CONTAIN_SET_IDS
    gid_t gid;
    const gid_t *_Nullable groups;
    size_t group_count;
    uint64_t capabilities;               // kept with CS_CONTAIN_DROP_CAPABILITIES: bit N is capability N
    int last_capability;                 // /proc/sys/kernel/cap_last_cap
    const cs_cover *_Nullable covers;    // `--hide` paths, all of which must exist
    size_t cover_count;
    cs_landlock landlock;                // for CS_CONTAIN_LANDLOCK
} cs_containment;

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
    cs_containment containment;
} cs_spawn_spec;

/// Where a child failed between fork and exec (the step's system call in the comment).
typedef enum cs_spawn_stage {
    CS_STAGE_NONE = 0,
    CS_STAGE_STDIO,               // dup2, fcntl
    CS_STAGE_CHDIR,               // chdir
    CS_STAGE_PARENT_DEATH_SIGNAL, // prctl(PR_SET_PDEATHSIG)
    CS_STAGE_OOM_SCORE_ADJ,       // write /proc/self/oom_score_adj
    CS_STAGE_NO_NEW_PRIVS,        // prctl(PR_SET_NO_NEW_PRIVS)
    CS_STAGE_SECCOMP,             // seccomp(SECCOMP_SET_MODE_FILTER)
    CS_STAGE_EXEC,                // execve
    CS_STAGE_USER_NAMESPACE,      // unshare(CLONE_NEWUSER)
    CS_STAGE_UID_MAP,             // write /proc/self/uid_map
    CS_STAGE_GID_MAP,             // write /proc/self/setgroups ("deny") and /proc/self/gid_map
    CS_STAGE_NAMESPACES,          // unshare(CLONE_NEWCGROUP | CLONE_NEWNS)
    CS_STAGE_PROPAGATION,         // mount(/, MS_REC | MS_SLAVE)
    CS_STAGE_HIDE,                // mount(/dev/null, hidden[detail], MS_BIND); detail -1: the tmpfs over /run/user
    CS_STAGE_SYS_READ_ONLY,       // mount_setattr(/sys, MOUNT_ATTR_RDONLY)
    CS_STAGE_CGROUP_MOUNT,        // fsopen, fsconfig, fsmount and move_mount of cgroup2 onto /sys/fs/cgroup
    CS_STAGE_PROC_READ_ONLY,      // bind and mount_setattr(MOUNT_ATTR_RDONLY) of /proc/sys (detail 0), /proc/sysrq-trigger (1)
    CS_STAGE_SECUREBITS,          // prctl(PR_SET_SECUREBITS)
    CS_STAGE_BOUNDING_SET,        // prctl(PR_CAPBSET_DROP)
    CS_STAGE_SETGROUPS,           // setgroups
    CS_STAGE_SETRESGID,           // setresgid
    CS_STAGE_SETRESUID,           // setresuid
    CS_STAGE_CAPSET,              // capset
    CS_STAGE_AMBIENT,             // prctl(PR_CAP_AMBIENT)
    CS_STAGE_COVER,               // mount of a tmpfs or /dev/null over covers[detail]
    CS_STAGE_LOOPBACK,            // ioctl(SIOCSIFFLAGS) bringing up lo in the new network namespace
    CS_STAGE_LANDLOCK_RULESET,    // landlock_create_ruleset
    CS_STAGE_LANDLOCK_PATH,       // open(O_PATH) and landlock_add_rule of landlock.paths[detail]
    CS_STAGE_LANDLOCK_PORT,       // landlock_add_rule of landlock.ports[detail]
    CS_STAGE_LANDLOCK_RESTRICT,   // landlock_restrict_self
} cs_spawn_stage;

/// Where and why a child failed: the stage, its errno, and for some stages which path (`detail`).
typedef struct cs_spawn_failure {
    cs_spawn_stage stage;
    int error;
    int detail;
} cs_spawn_failure;

/// Forks a child that waits at the gate. `*gate` is the parent's end, for cs_spawn_release or cs_spawn_abort.
int cs_spawn_gated(const cs_spawn_spec *spec, pid_t *pid, int *gate);

/// Opens the gate: the child applies oom_score_adj, its containment, no_new_privs and seccomp, then execs. Returns 0
/// once the exec happened, or -errno with `*failure` naming the step that failed (the child has then exited with
/// status 127 or 126).
int cs_spawn_release(int gate, cs_spawn_failure *failure);

/// Applies `spec` to the calling process itself (oom_score_adj, containment, no_new_privs, seccomp) and execs, as
/// `corral run --exec` does once it stands in its scope. The stdio fields and parent_death_signal are ignored. A
/// containment with CS_CONTAIN_USER_NAMESPACE needs a single-threaded process: see cs_exec_contained. Returns only
/// on failure: -errno, with `*failure` naming the step.
int cs_exec(const cs_spawn_spec *spec, cs_spawn_failure *failure);

/// For a multithreaded process that needs a user namespace (unshare(CLONE_NEWUSER) refuses those): writes `spec` to
/// a memfd and execs /proc/self/exe with arguments {"corral", `marker`, FD, PATH}, whose first act, while it is still
/// single-threaded, must be cs_exec_resume. Returns only on failure: -errno.
int cs_exec_contained(const cs_spawn_spec *spec, const char *marker);

/// In a process started by cs_exec_contained: reads the spec from `fd` and runs cs_exec with it. Returns only on
/// failure.
int cs_exec_resume(int fd, cs_spawn_failure *failure);

/// Kills a gated child that must never run, reaps it and closes the gate.
void cs_spawn_abort(pid_t pid, int gate);

/// Tries the namespace steps of `containment` (its user namespace, cgroup and mount namespaces and the read-only
/// mounts; nothing is hidden, no credential changes) in a short-lived child: 0 when the host allows them, else
/// -errno with `*failure` naming the step.
int cs_contain_probe(const cs_containment *containment, cs_spawn_failure *failure);

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

/// Blocks SIGPIPE in the calling thread's mask only: its writes to a closed pipe or socket then fail with EPIPE
/// instead of killing the process, and the process's dispositions stay the embedder's.
int cs_block_sigpipe(void);

/// write(2) that fails with EPIPE where the reader is gone instead of raising SIGPIPE, from any thread: SIGPIPE is
/// blocked around the write and a SIGPIPE it raised is consumed. Returns the count written or -errno.
ssize_t cs_write_nosigpipe(int fd, const void *data, size_t size);

/// pidfd_open(pid, 0).
int cs_pidfd_open(pid_t pid);

/// pidfd_send_signal(pidfd, signal, NULL, 0): signals a process without any risk of PID reuse.
int cs_pidfd_send_signal(int pidfd, int signal);

/// Opens a directory as an O_PATH descriptor (close-on-exec): a handle for openat that reads nothing itself.
int cs_open_directory(const char *path);

/// Whether `path` is on a cgroup v2 filesystem (statfs magic CGROUP2_SUPER_MAGIC): 1, 0, or -errno.
int cs_is_cgroup2(const char *path);

/// The Landlock ABI version this kernel offers (landlock_create_ruleset with LANDLOCK_CREATE_RULESET_VERSION): 1 or
/// more, 0 when Landlock is not built in or not enabled (ENOSYS, EOPNOTSUPP), or -errno.
int cs_landlock_abi(void);

/// Whether the kernel accepts seccomp filters and no_new_privs in this process (read from /proc/self/status and a
/// harmless prctl probe).
int cs_seccomp_available(void);

#pragma clang assume_nonnull end

#endif
