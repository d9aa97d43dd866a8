# Runs in the guest as corral-guest.service (root). Scripts/guest reads stdout, stderr, exit-code and timings
# from the results share mounted at /run/guest.
set -u
R=/run/guest
. $R/params.sh

# --sysctl NAME=VALUE: the host conditions a test needs (e.g. user namespaces forbidden), set before the session.
for setting in $GUEST_SYSCTLS; do
    echo "${setting#*=}" >/proc/sys/$(echo "${setting%%=*}" | tr . /) || exit 1
done

if [ "$CORRAL_GUEST" = user ]; then
    useradd --create-home --uid 4242 --user-group --shell /bin/sh corral-test || exit 1
    # The checkout may live under /root (mode 700 on the host); the overlay lets us open it up in the guest only.
    d=$GUEST_CWD
    while :; do
        chmod o+rx "$d" || exit 1
        [ "$d" = / ] && break
        d=$(dirname "$d")
    done
    # pam_systemd silently creates no session while logind is not running.
    systemctl start systemd-logind || exit 1
    run() { runuser -l corral-test -c "exec /bin/sh $R/exec.sh"; }
else
    run() { /bin/sh $R/exec.sh; }
fi

uptime() { cut -d' ' -f1 /proc/uptime; }
echo "start $(uptime)" >$R/timings
run </dev/null >$R/stdout 2>$R/stderr
rc=$?
echo "end $(uptime)" >>$R/timings
echo $rc >$R/exit-code
