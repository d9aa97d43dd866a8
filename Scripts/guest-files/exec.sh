# Becomes COMMAND, as root or as corral-test (after runuser's login environment is set up).
. /run/guest/params.sh
unset INVOCATION_ID JOURNAL_STREAM SYSTEMD_EXEC_PID TERM
cd "$GUEST_CWD" || exit 125
exec "$@"
