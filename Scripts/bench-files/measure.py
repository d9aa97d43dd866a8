#!/usr/bin/python3
"""Runs inside the systemd guest (started by Scripts/bench through Scripts/guest): times launches of corral,
systemd-run and /bin/true, interleaved round-robin, and reads the resident size of corral's monitor process;
optionally also N concurrent spawns through the library (spawn-bench) against N concurrent systemd-run, how long
`corral ps` takes with many servers, and how long `corral check` takes on a real MCP server.
Prints Markdown on stdout; progress and errors go to stderr. Exits non-zero when a command failed to run.

usage: measure.py [--runs N] [--warmup N] [--rss-wait SECONDS] [--no-launch] [--no-rss]
                  [--spawn-bench PATH --concurrency N,...] [--ps-counts N,...] [--check-server PATH]
                  [--repeat N] [--host TEXT] LABEL=CORRAL_BINARY...
"""
import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time


class Failure(Exception):
    pass


def first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        return out.splitlines()[0].strip()
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def spawn_timed(argv, stderr_fd, devnull):
    """Wall time of spawn + wait in ns, and the wait status. posix_spawn is a vfork underneath: cheap for us."""
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, stderr_fd, 2)])
    _, status = os.waitpid(pid, 0)
    return time.perf_counter_ns() - start, status


def describe_status(status):
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def settle(timeout):
    """Waits until systemd has no start-up jobs left but our own, so boot work does not skew the first runs."""
    deadline = time.monotonic() + timeout
    manager = ["systemctl", "--user"] if os.getuid() != 0 else ["systemctl"]
    while time.monotonic() < deadline:
        jobs = subprocess.run(manager + ["list-jobs", "--no-legend", "--plain"], capture_output=True,
                              text=True).stdout.split("\n")
        others = [j for j in jobs if j.strip() and "corral-guest" not in j]
        if not others:
            return
        time.sleep(0.2)
    print(f"measure: systemd still has start-up jobs after {timeout:g} s; measuring anyway", file=sys.stderr)


def launch_table(commands, runs, warmup):
    devnull = os.open("/dev/null", os.O_RDWR)
    samples = {label: [] for label, _ in commands}
    with tempfile.TemporaryFile() as err:
        for round_index in range(warmup + runs):
            for label, argv in commands:
                err.seek(0)
                err.truncate()
                elapsed, status = spawn_timed([a.replace("{round}", str(round_index)) for a in argv], err.fileno(),
                                              devnull)
                if status != 0:
                    err.seek(0)
                    output = err.read().decode(errors="replace").strip()
                    raise Failure(f"`{' '.join(argv)}` failed ({describe_status(status)})"
                                  + (f":\n{output}" if output else " with no output on stderr"))
                if round_index >= warmup:
                    samples[label].append(elapsed / 1e6)
            if (round_index + 1) % 10 == 0:
                print(f"measure: round {round_index + 1}/{warmup + runs}", file=sys.stderr)
    os.close(devnull)
    return samples


def p90(values):
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def print_launch_table(commands, samples, reference):
    ref_median = statistics.median(samples[reference])
    ref_p90 = p90(samples[reference])
    print("| command | runs | median ms | p90 ms | min ms | median / systemd-run | p90 / systemd-run "
          "| paired ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, _ in commands:
        values = samples[label]
        median, high = statistics.median(values), p90(values)
        # Median over rounds of this command's time / systemd-run's time in the same round: drift cancels out.
        paired = statistics.median(v / r for v, r in zip(values, samples[reference]))
        print(f"| `{label}` | {len(values)} | {median:.1f} | {high:.1f} | {min(values):.1f} "
              f"| {median / ref_median:.2f}x | {high / ref_p90:.2f}x | {paired:.2f}x |")


def read_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def read_rollup(pid):
    """Pss and private (Private_Clean + Private_Dirty) from /proc/PID/smaps_rollup, in kB."""
    fields = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, value = line.partition(":")
                if value.strip().endswith(" kB"):
                    fields[key] = int(value.split()[0])
    except OSError:
        pass
    return fields.get("Pss"), (fields["Private_Clean"] + fields["Private_Dirty"]) if "Private_Clean" in fields else None


def kib_to_mib(text):
    number, _, unit = text.partition(" ")
    if unit != "kB":
        return text
    return f"{int(number) / 1024:.2f}"


def monitor_rss(label, binary, wait, count):
    """Starts `count` monitors `corral run --name UNIQUE -- sleep 30` at once, reads their /proc status and
    smaps_rollup after `wait` seconds, then stops them. The first one's status, and the mean Pss and private
    memory over all: what each further server costs while the binary's pages are shared."""
    devnull = os.open("/dev/null", os.O_RDWR)
    # Names of their own: the guardrails count the SIGTERM that ends this run as a failed start of the server.
    argvs = [[binary, "run", "--name", f"bench-rss-{label}-{os.getpid()}-{i}", "--", "sleep", "30"] for i in range(count)]
    procs = [subprocess.Popen(argv, stdin=devnull, stdout=devnull, stderr=subprocess.PIPE) for argv in argvs]
    os.close(devnull)
    try:
        time.sleep(wait)
        settle(60)
        for argv, proc in zip(argvs, procs):
            if proc.poll() is not None:
                raise Failure(f"`{' '.join(argv)}` exited early (status {proc.returncode}):\n"
                              + proc.stderr.read().decode(errors="replace").strip())
        status = read_status(procs[0].pid)
        rollups = [read_rollup(proc.pid) for proc in procs]
        children = [subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
                    for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()
    for argv, proc in zip(argvs, procs):
        if proc.returncode not in (0, 128 + signal.SIGTERM, -signal.SIGTERM):
            raise Failure(f"`{' '.join(argv)}` ended with unexpected status {proc.returncode} after SIGTERM")
    if not all(children):
        raise Failure(f"a monitor had no child (sleep) after {wait} s")
    pss = [p for p, _ in rollups if p is not None]
    private = [q for _, q in rollups if q is not None]
    mean = lambda values: f"{sum(values) / len(values) / 1024:.2f}" if values else "?"
    return [label, kib_to_mib(status.get("VmRSS", "?")), kib_to_mib(status.get("RssAnon", "?")),
            kib_to_mib(status.get("RssFile", "?")), mean(pss), mean(private), status.get("Threads", "?")]


def median_min_max(values):
    return statistics.median(values), min(values), max(values)


def run_captured(argv, timeout=900):
    """Runs argv to completion; returns (wall seconds, CompletedProcess). Timed from spawn to reaped exit."""
    start = time.perf_counter_ns()
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return (time.perf_counter_ns() - start) / 1e9, result


def concurrent_systemd_run(count, argv):
    """Launches `count` copies of argv at once (all spawned, then all reaped): total wall ms and failures."""
    devnull = os.open("/dev/null", os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    start = time.perf_counter_ns()
    pids = [os.posix_spawn(argv[0], argv, os.environ, file_actions=actions) for _ in range(count)]
    failed = sum(1 for pid in pids if os.waitpid(pid, 0)[1] != 0)
    elapsed = (time.perf_counter_ns() - start) / 1e6
    os.close(devnull)
    return elapsed, failed


def library_spawns(spawn_bench, count, timeout):
    """One `spawn-bench COUNT /bin/true`: wall ms of the whole process, its own total_ms, and its failures; None
    when it did not finish within `timeout` seconds (after printing what it was doing to stderr, and killing it)."""
    argv = [spawn_bench, str(count), "/bin/true"]
    start = time.perf_counter_ns()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"measure: `spawn-bench {count}` still running after {timeout} s; its state:", file=sys.stderr)
        for task in sorted(os.listdir(f"/proc/{proc.pid}/task")):
            try:
                with open(f"/proc/{proc.pid}/task/{task}/wchan") as f:
                    wchan = f.read()
                with open(f"/proc/{proc.pid}/task/{task}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                wchan, state = "?", "?"
            print(f"measure:   thread {task}: state {state}, wchan {wchan}", file=sys.stderr)
        for argv_diag in (["ps", "-o", "pid,stat,wchan:20,args", "--ppid", str(proc.pid)],
                          ["systemctl", "list-units", "--no-legend", "--plain", "corral-spawn*"],
                          ["systemctl", "list-jobs", "--no-legend"]):
            diag = subprocess.run(argv_diag, capture_output=True, text=True).stdout.strip()
            print(f"measure:   {' '.join(argv_diag)}:\n{diag or '(nothing)'}", file=sys.stderr)
        proc.kill()
        output, _ = proc.communicate()
        print(f"measure:   its output: {output.strip()[-2000:] or '(nothing)'}", file=sys.stderr)
        return None
    wall = (time.perf_counter_ns() - start) / 1e6
    fields = dict(part.split("=", 1) for part in output.split() if "=" in part)
    if proc.returncode != 0 or "total_ms" not in fields:
        raise Failure(f"`spawn-bench {count}` failed (status {proc.returncode}):\n" + output.strip()[-2000:])
    return wall, float(fields["total_ms"]), int(fields.get("failed", "0"))


def concurrency_table(spawn_bench, counts, repeat, session):
    systemd_run = ["/usr/bin/systemd-run"] + (["--user"] if os.getuid() != 0 else []) + ["--scope", "-q", "/bin/true"]
    samples = {}  # (count, label) -> [ms]; failures per (count, label)
    failures = {}
    # Untimed warm-up: the first start of spawn-bench reads its binary and libraries over 9p.
    hung = {}
    if library_spawns(spawn_bench, 2, 120) is None:
        hung[2] = hung.get(2, 0) + 1  # the warm-up
    concurrent_systemd_run(2, systemd_run)
    for index in range(repeat):
        for count in counts:
            # Alternate which goes first, so that neither always runs right after the other's burst.
            order = ["library", "systemd-run"] if index % 2 == 0 else ["systemd-run", "library"]
            for which in order:
                settle(60)
                print(f"measure: concurrency round {index + 1}/{repeat}: {count} x {which}", file=sys.stderr)
                if which == "library":
                    outcome = library_spawns(spawn_bench, count, 120 + 3 * count)
                    if outcome is None:
                        hung[count] = hung.get(count, 0) + 1
                        continue
                    wall, inner, failed = outcome
                    samples.setdefault((count, "wall"), []).append(wall)
                    samples.setdefault((count, "inner"), []).append(inner)
                    failures[(count, "wall")] = failures.get((count, "wall"), 0) + failed
                    failures[(count, "inner")] = failures[(count, "wall")]
                else:
                    elapsed, failed = concurrent_systemd_run(count, systemd_run)
                    samples.setdefault((count, "systemd-run"), []).append(elapsed)
                    failures[(count, "systemd-run")] = failures.get((count, "systemd-run"), 0) + failed
    print(f"Concurrent launches, {session}: N trivial servers (`/bin/true`) started at once and all waited for; "
          f"{repeat} repetitions each, interleaved, after one untimed warm-up of each with N=2. `spawn-bench N` is ONE process starting N servers through the "
          "Corral library (monitor mode, one bus connection): timed from spawn to exit (\"process\"), and as it "
          "reports itself from its first spawn to its last exit (\"in-process\", without its own start-up). "
          "`N x systemd-run` is N `systemd-run --scope -q /bin/true` processes launched at once, then all reaped.")
    print()
    print("| N | command | runs | median ms | min ms | max ms | failed | median / systemd-run | paired ratio |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    labels = {"wall": "`spawn-bench N` (process)", "inner": "`spawn-bench N` (in-process)",
              "systemd-run": "`N x systemd-run --scope -q true`"}
    for count in counts:
        reference = samples[(count, "systemd-run")]
        for kind in ("wall", "inner", "systemd-run"):
            label = labels[kind].replace("N", str(count), 1)
            values = samples.get((count, kind), [])
            if not values:
                print(f"| {count} | {label} | 0 | - | - | - | - | - | - |")
                continue
            median, low, high = median_min_max(values)
            # Pairs only where both finished; a hung run leaves the library list shorter.
            paired = statistics.median(v / r for v, r in zip(values, reference))
            print(f"| {count} | {label} | {len(values)} | {median:.0f} | {low:.0f} | {high:.0f} "
                  f"| {failures[(count, kind)]} | {median / statistics.median(reference):.2f}x | {paired:.2f}x |")
    for count, times in sorted(hung.items()):
        print()
        print(f"**`spawn-bench {count}` hung {times} of {repeat} times** (killed after {120 + 3 * count} s, "
              "not counted above; its threads' state is in the log on stderr).")
    print()


def count_units(pattern):
    out = subprocess.run(["systemctl", "list-units", "--no-legend", "--plain", pattern], capture_output=True,
                         text=True).stdout
    return sum(1 for line in out.splitlines() if line.strip())


def start_exec_servers(binary, first, last, started, prefix):
    """Starts `corral run --exec --no-guardrails --name PREFIX-i -- sleep 600` for i in first..<last, a few in
    flight at a time (a corral process that has exec'd into sleep is done starting)."""
    devnull = os.open("/dev/null", os.O_RDWR)
    for index in range(first, last):
        while True:
            pending = 0
            for name, proc in started:
                if proc.poll() is not None:
                    raise Failure(f"`corral run --exec --name {name} -- sleep 600` exited early "
                                  f"(status {proc.returncode})")
                try:
                    with open(f"/proc/{proc.pid}/comm") as f:
                        pending += f.read().strip() != "sleep"
                except OSError:
                    pass
            if pending < 6:
                break
            time.sleep(0.05)
        name = f"{prefix}-{index}"
        started.append((name, subprocess.Popen(
            [binary, "run", "--exec", "--no-guardrails", "--name", name, "--", "sleep", "600"],
            stdin=devnull, stdout=devnull, stderr=devnull)))
    os.close(devnull)


def ps_table(binary, counts, session):
    help_check = subprocess.run([binary, "ps", "--help"], capture_output=True, text=True)
    if help_check.returncode != 0 or "--json" not in help_check.stdout:
        print(f"`corral ps` timing skipped: `corral ps --help` failed (status {help_check.returncode}) "
              "or lacks --json in this build.")
        print()
        return
    prefix = "psbench"
    pattern = f"corral-{prefix}*"
    started = []
    rows = []
    try:
        for count in counts:
            print(f"measure: starting servers up to {count} with `corral run --exec`", file=sys.stderr)
            begin = time.monotonic()
            start_exec_servers(binary, len(started), count, started, prefix)
            deadline = time.monotonic() + 600
            while (units := count_units(pattern)) < count:
                if time.monotonic() > deadline:
                    raise Failure(f"only {units} of {count} psbench scopes are up after 600 s")
                time.sleep(0.5)
            print(f"measure: {count} servers up after {time.monotonic() - begin:.0f} s; timing corral ps",
                  file=sys.stderr)
            settle(60)
            times = {"version": [], "ps": [], "json": []}
            listed = {"ps": set(), "json": set()}
            for _ in range(5):
                for kind, argv in (("version", [binary, "version"]), ("ps", [binary, "ps"]),
                                   ("json", [binary, "ps", "--json"])):
                    wall, result = run_captured(argv, timeout=300)
                    if result.returncode != 0:
                        raise Failure(f"`{' '.join(argv)}` failed (status {result.returncode}):\n{result.stderr}")
                    times[kind].append(wall)
                    if kind == "ps":
                        listed["ps"].add(sum(1 for line in result.stdout.splitlines()[1:] if prefix in line))
                    elif kind == "json":
                        listed["json"].add(sum(1 for item in json.loads(result.stdout)
                                               if str(item.get("name", "")).startswith(prefix)))
            for kind, label in (("ps", "`corral ps`"), ("json", "`corral ps --json`"),
                                ("version", "`corral version` (process start, for reference)")):
                median, low, high = median_min_max(times[kind])
                shown = "/".join(str(n) for n in sorted(listed[kind])) if kind in listed else "-"
                rows.append(f"| {count} | {label} | {len(times[kind])} | {median:.3f} | {low:.3f} | {high:.3f} "
                            f"| {shown} |")
    finally:
        print("measure: stopping the psbench servers", file=sys.stderr)
        subprocess.run(["systemctl", "stop", pattern], capture_output=True)
        for name, proc in started:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(f"`corral ps` with many servers, {session}: servers started with `corral run --exec --no-guardrails "
          "--name psbench-I -- sleep 600` (nothing resident but the sleeps), then each command run 5 times, "
          "interleaved; wall time from spawn to exit, seconds. \"psbench rows\" is how many psbench servers the "
          "output listed (every run).")
    print()
    print("| servers | command | runs | median s | min s | max s | psbench rows |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    print()


def check_table(binary, server, repeat, session):
    argv = [binary, "check", "--json", "--timeout", "5min", "--", server]
    rows, walls, firsts = [], [], []
    for index in range(repeat):
        settle(60)
        print(f"measure: corral check {index + 1}/{repeat}", file=sys.stderr)
        wall, result = run_captured(argv, timeout=600)
        try:
            report = json.loads(result.stdout)
        except ValueError:
            report = {}
        if result.returncode != 0 or not report.get("ok"):
            raise Failure(f"`{' '.join(argv)}` failed (status {result.returncode}):\n"
                          + (result.stdout + result.stderr).strip()[-2000:])
        first = report.get("firstResponseSeconds")
        peak = report.get("memoryPeakBytes")
        walls.append(wall)
        if first is not None:
            firsts.append(first)
        rows.append(f"| {index + 1} | {wall:.2f} | {first if first is not None else '-'} "
                    f"| {peak / 1048576 if peak else 0:.1f} | {report.get('tasksPeak', '-')} "
                    f"| {len(report.get('tools', []))} |")
    print(f"`corral check` on a real server, {session}: `corral check --json --timeout 5min -- "
          f"{server}` (mcp-server-time from .venv, made by Scripts/setup), {repeat} runs; wall time from spawn to "
          "exit, and the report's firstResponseSeconds (server start to its answer to `initialize`).")
    print()
    print("| run | wall s | firstResponseSeconds | memory peak MiB | tasks peak | tools |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    print(f"| **median** | **{statistics.median(walls):.2f}** | "
          + (f"**{statistics.median(firsts):.2f}**" if firsts else "-") + " | | | |")
    print()


def numbers(text):
    return [int(n) for n in text.split(",") if n.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rss-wait", type=float, default=1.0)
    parser.add_argument("--rss-monitors", type=int, default=10)
    parser.add_argument("--no-launch", action="store_true")
    parser.add_argument("--no-rss", action="store_true")
    parser.add_argument("--spawn-bench", help="spawn-bench binary: time N concurrent library spawns")
    parser.add_argument("--concurrency", default="100,20", help="the Ns for --spawn-bench, comma-separated")
    parser.add_argument("--ps-counts", default="", help="time corral ps with this many servers, comma-separated")
    parser.add_argument("--check-server", help="time corral check on this MCP server command")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the concurrency and check runs")
    parser.add_argument("--host", default="", help="host description for the header line")
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=CORRAL_BINARY",
                        help="another build (an earlier commit's) for the launch and memory tables only")
    parser.add_argument("builds", nargs="+", metavar="LABEL=CORRAL_BINARY")
    args = parser.parse_args()
    builds = [b.split("=", 1) for b in args.builds]
    compared = [b.split("=", 1) for b in args.compare] + builds

    user = os.getuid() != 0
    session = f"user session (uid {os.getuid()}, systemd --user)" if user else "root (system manager)"
    systemd_run = ["/usr/bin/systemd-run", "--user", "--scope", "-q", "/bin/true"] if user else \
        ["/usr/bin/systemd-run", "--scope", "-q", "/bin/true"]
    print(f"**{time.strftime('%Y-%m-%d %H:%M %Z')}** — guest kernel {platform.release()}, "
          f"{first_line(['systemctl', '--version'])}, guest CPU: {cpu_model()} x {os.cpu_count()}"
          + (f", host: {args.host}" if args.host else "") + f"; {session}")
    print()

    commands = []
    for label, binary in compared:
        # A name of its own per run: guardrails stay on (admitted, recorded), but an exit at once is a fast failure,
        # so the same name again would be refused by its backoff.
        commands.append((f"corral run -- true [{label}]",
                         [binary, "run", "--name", f"bench-{label}-m-{{round}}", "--", "/bin/true"]))
        commands.append((f"corral run --exec -- true [{label}]",
                         [binary, "run", "--exec", "--name", f"bench-{label}-x-{{round}}", "--", "/bin/true"]))
    # The launch cost of the sandbox options (issue 17), with the last build (the one under test: an older one may
    # not have them); guardrails off in these rows and their baseline, so that repeated starts are never refused.
    label, binary = builds[-1]
    for options in ([], ["--hide", "/etc/hostname"], ["--read", "/usr"], ["--network", "none"],
                    ["--network", "loopback"], ["--sandbox", "strict"]):
        name = " ".join(["corral run --no-guardrails"] + options + ["-- true"])
        commands.append((f"{name} [{label}]", [binary, "run", "--no-guardrails", *options, "--", "/bin/true"]))
    commands.append((("systemd-run --user" if user else "systemd-run") + " --scope -q true", systemd_run))
    commands.append(("/bin/true", ["/bin/true"]))
    reference = commands[-2][0]

    settle(30)
    if not args.no_launch:
        print(f"measure: {args.warmup} warm-up + {args.runs} timed rounds of {len(commands)} commands ({session})",
              file=sys.stderr)
        samples = launch_table(commands, args.runs, args.warmup)
        print(f"Launch wall time, {session}: spawn to reaped exit, {args.runs} runs each after {args.warmup} "
              "warm-up runs, round-robin.")
        print()
        print_launch_table(commands, samples, reference)
        print()

    if not args.no_rss:
        count = args.rss_monitors
        rows = [monitor_rss(label, binary, args.rss_wait, count) for label, binary in compared]
        print(f"Monitor memory: {count} `corral run --name bench-rss-...-I -- sleep 30` at once, read {args.rss_wait:g} s "
              f"after start and once the guest is idle ({session}). VmRSS, RssAnon, RssFile: the first monitor's "
              "/proc/PID/status; Pss and private (Private_Clean + Private_Dirty, what only that process holds): "
              f"the mean of smaps_rollup over the {count}, i.e. what each further server costs. MiB.")
        print()
        print("| build | VmRSS | RssAnon | RssFile | Pss (mean) | private (mean) | threads |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()

    first_binary = builds[0][1]
    if args.spawn_bench:
        concurrency_table(args.spawn_bench, numbers(args.concurrency), args.repeat, session)
    if args.ps_counts:
        ps_table(first_binary, numbers(args.ps_counts), f"{session}, corral [{builds[0][0]}]")
    if args.check_server:
        check_table(first_binary, args.check_server, args.repeat, f"{session}, corral [{builds[0][0]}]")


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"measure: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
