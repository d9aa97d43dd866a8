#!/usr/bin/env bash
# The demo's story, run where systemd is PID 1 (see Scripts/demo).
set -uo pipefail
exec 2>&1  # one stream, so corral's reports appear where they happen
corral=$PWD/.build/debug/corral
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A real MCP server through corral, driven by the MCP Python SDK's stdio client (as $(id -un))"
echo "\$ mcp_stdio_client.py corral run --name time --memory-max 256M --tasks-max 64 -- mcp-server-time"
.venv/bin/python Examples/mcp_stdio_client.py "$corral" run --name time --memory-max 256M --tasks-max 64 -- \
    .venv/bin/mcp-server-time | .venv/bin/python -m json.tool

say "Inside its scope: the limits, seccomp and no_new_privs, as the server itself sees them"
"$corral" run --name inspect --memory-max 256M --tasks-max 64 -- sh -c '
    cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
    echo "scope:       $(basename "$cg")"
    echo "memory.max:  $(cat "$cg/memory.max")   memory.swap.max: $(cat "$cg/memory.swap.max")   pids.max: $(cat "$cg/pids.max")"
    grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status | tr "\n" " "; echo
    echo "oom_score_adj: $(cat /proc/self/oom_score_adj)"'

say "A typo in a server's command: one clear error, exit 127, nothing left behind"
echo "\$ corral run -- npx-typo -y some-server"
"$corral" run -- npx-typo -y some-server; echo "exit status $?"

say "A server that leaks memory: OOM-killed inside its own scope at 64M, reported by name; the host does not notice"
echo "\$ corral run --name leaky --memory-max 64M -- python3 -c 'grow forever'"
"$corral" run --name leaky --memory-max 64M -- /usr/bin/python3 -c 'b = []
while True: b.append(bytearray(4 << 20))'; echo "exit status $?"

say "A server whose npm -> sh -> node tree leaves a daemon behind: killed with the scope when the server exits"
"$corral" run --name leaver -- sh -c 'setsid sh -c "sleep 4242 & exit" & sleep 0.3; echo "server exits, leaving: $(pgrep -c -f "^sleep 4242") sleep process"'
echo "after corral returned: $(pgrep -c -f '^sleep 4242') left"

say "Corral scopes still loaded afterwards:"
systemctl $([ "$(id -u)" = 0 ] || echo --user) list-units --all --no-legend 'corral-*.scope'; echo "(end of list)"
