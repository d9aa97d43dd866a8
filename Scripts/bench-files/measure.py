#!/usr/bin/python3
"""Runs inside the systemd guest (started by Scripts/bench through Scripts/guest): times launches of corral,
systemd-run and /bin/true, interleaved round-robin, and reads the resident size of corral's monitor process.
Prints Markdown on stdout; progress and errors go to stderr. Exits non-zero when a command failed to run.

usage: measure.py [--runs N] [--warmup N] [--rss-wait SECONDS] [--no-rss] LABEL=CORRAL_BINARY...
"""
import argparse
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
                elapsed, status = spawn_timed(argv, err.fileno(), devnull)
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


def read_pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def kib_to_mib(text):
    number, _, unit = text.partition(" ")
    if unit != "kB":
        return text
    return f"{int(number) / 1024:.2f}"


def monitor_rss(label, binary, wait):
    """Starts `corral run --name UNIQUE -- sleep 30`, reads the monitor's /proc status after `wait` seconds, then stops it."""
    devnull = os.open("/dev/null", os.O_RDWR)
    # A name of its own: the guardrails count the SIGTERM that ends this run as a failed start of the server.
    argv = [binary, "run", "--name", f"bench-rss-{label}-{os.getpid()}", "--", "sleep", "30"]
    proc = subprocess.Popen(argv, stdin=devnull, stdout=devnull, stderr=subprocess.PIPE)
    os.close(devnull)
    try:
        time.sleep(wait)
        if proc.poll() is not None:
            raise Failure(f"`{' '.join(argv)}` exited early (status {proc.returncode}):\n"
                          + proc.stderr.read().decode(errors="replace").strip())
        status = read_status(proc.pid)
        pss = read_pss(proc.pid)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stderr.close()
    if proc.returncode not in (0, 128 + signal.SIGTERM, -signal.SIGTERM):
        raise Failure(f"`{' '.join(argv)}` ended with unexpected status {proc.returncode} after SIGTERM")
    if not children:
        raise Failure(f"`{' '.join(argv)}`: the monitor had no child (sleep) after {wait} s")
    return [label, kib_to_mib(status.get("VmRSS", "?")), kib_to_mib(status.get("VmHWM", "?")),
            kib_to_mib(status.get("RssAnon", "?")), kib_to_mib(status.get("RssFile", "?")),
            kib_to_mib(pss), status.get("Threads", "?")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rss-wait", type=float, default=1.0)
    parser.add_argument("--no-rss", action="store_true")
    parser.add_argument("--host", default="", help="host description for the header line")
    parser.add_argument("builds", nargs="+", metavar="LABEL=CORRAL_BINARY")
    args = parser.parse_args()
    builds = [b.split("=", 1) for b in args.builds]

    user = os.getuid() != 0
    session = f"user session (uid {os.getuid()}, systemd --user)" if user else "root (system manager)"
    systemd_run = ["/usr/bin/systemd-run", "--user", "--scope", "-q", "/bin/true"] if user else \
        ["/usr/bin/systemd-run", "--scope", "-q", "/bin/true"]
    print(f"**{time.strftime('%Y-%m-%d %H:%M %Z')}** — guest kernel {platform.release()}, "
          f"{first_line(['systemctl', '--version'])}, guest CPU: {cpu_model()} x {os.cpu_count()}"
          + (f", host: {args.host}" if args.host else "") + f"; {session}")
    print()

    commands = []
    for label, binary in builds:
        commands.append((f"corral run -- true [{label}]", [binary, "run", "--", "/bin/true"]))
        commands.append((f"corral run --exec -- true [{label}]", [binary, "run", "--exec", "--", "/bin/true"]))
    commands.append((("systemd-run --user" if user else "systemd-run") + " --scope -q true", systemd_run))
    commands.append(("/bin/true", ["/bin/true"]))
    reference = commands[-2][0]

    settle(30)
    print(f"measure: {args.warmup} warm-up + {args.runs} timed rounds of {len(commands)} commands ({session})",
          file=sys.stderr)
    samples = launch_table(commands, args.runs, args.warmup)
    print(f"Launch wall time, {session}: spawn to reaped exit, {args.runs} runs each after {args.warmup} "
          "warm-up runs, round-robin.")
    print()
    print_launch_table(commands, samples, reference)
    print()

    if not args.no_rss:
        rows = [monitor_rss(label, binary, args.rss_wait) for label, binary in builds]
        print("Monitor resident size: `corral run --name bench-rss-... -- sleep 30`, the corral process's "
              f"/proc/PID/status read {args.rss_wait:g} s after start ({session}). MiB.")
        print()
        print("| build | VmRSS | VmHWM | RssAnon | RssFile | Pss | threads |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"measure: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
