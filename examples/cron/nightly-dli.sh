#!/usr/bin/env bash
# Nightly DLI job for cron or a systemd timer: submit the SQL, wait, and alert on anything
# but FINISHED. The summary JSON is left for dashboards and for the alert text.
#
# Needs: bash, dli-wait, jq (reads dli-wait's summary file), flock (util-linux: one run at a
# time), mkdir, rm and cat; curl only with ALERT_WEBHOOK. Each is checked before anything
# runs: a missing one is one line and exit 2. Nothing else (no python).
#
# Runs as cron runs it: nothing in the environment but HOME, LOGNAME, SHELL and
# PATH=/usr/bin:/bin (tests/it/examples.rs runs it that way, under env -i, with a PATH of
# exactly the tools above).
#
#   DLI_WAIT_ENV_FILE  (default /etc/dli-wait/nightly.env, mode 0600) KEY=value lines, read
#                      with every variable exported:
#     HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID, HUAWEICLOUD_SDK_REGION
#     SQL_FILE, STATE_DIR, DLI_QUEUE      what to run, where to keep the summary, which queue
#     DLI_WAIT_TIMEOUT (4h), DLI_WAIT_STALL_TIMEOUT (45m), DLI_WAIT_CANCEL_ON
#                      (timeout,stall,signal)   the limits, without editing this script
#     ALERT_WEBHOOK   where to POST a failure as {"text": ...} (optional; the alert line is
#                     always on stderr, which cron mails)
#     QUIET=1         mail only when it fails: dli-wait's progress is kept in
#                     $STATE_DIR/nightly.log and shown only with the alert
#     LOCK_FILE       (default $STATE_DIR/nightly.lock) a run that finds it held does not
#                     start: it alerts and exits 75 (EX_TEMPFAIL)
#     KEY_PREFIX      (default nightly) the night's --idempotency-key is KEY_PREFIX-YYYY-MM-DD:
#                     the date is always added, so no env file can make one key for every
#                     night (each later night would exit 0 with nothing run); a
#                     DLI_WAIT_IDEMPOTENCY_KEY in the env file is not used
#
# Exit status: dli-wait's (0 FINISHED, 1 FAILED, 124 timed out, 143 stopped by SIGTERM, ...;
# see dli-wait --help), 75 when another run holds the lock, 2 when a tool above is missing.
# SIGTERM, SIGINT and SIGHUP to this script are passed on to dli-wait, which cancels the DLI
# job (--cancel-on signal), writes its summary and exits; the alert then goes out as usual.
set -euo pipefail

# cron's PATH has neither /usr/local/bin (release binaries) nor ~/.cargo/bin (cargo install).
PATH="/usr/local/bin:${HOME:-/nonexistent}/.cargo/bin:$PATH"

env_file=${DLI_WAIT_ENV_FILE:-/etc/dli-wait/nightly.env}
if [ -r "$env_file" ]; then
  # set -a: plain KEY=value lines become environment variables of dli-wait.
  set -a
  # shellcheck disable=SC1090 # the path is configuration
  . "$env_file"
  set +a
fi

needs=(dli-wait jq flock mkdir rm cat)
if [ -n "${ALERT_WEBHOOK:-}" ]; then needs+=(curl); fi
missing=()
for tool in "${needs[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "nightly DLI job not started: ${missing[*]} not found on PATH ($PATH): install what is missing, or add its directory to PATH" >&2
  exit 2
fi

SQL_FILE=${SQL_FILE:-/etc/dli-wait/nightly.sql}
STATE_DIR=${STATE_DIR:-/var/lib/dli-wait}
SUMMARY="$STATE_DIR/nightly-summary.json"
LOG="$STATE_DIR/nightly.log"
LOCK_FILE=${LOCK_FILE:-$STATE_DIR/nightly.lock}
mkdir -p "$STATE_DIR"

# The alert: one line on stderr (cron mails it), and the webhook when there is one.
alert() {
  echo "$1" >&2
  if [ -n "${ALERT_WEBHOOK:-}" ]; then
    curl -fsS -m 10 -H 'Content-Type: application/json' \
      --data "$(jq -nc --arg text "$1" '{text: $text}')" \
      "$ALERT_WEBHOOK" >/dev/null || echo "alert webhook failed" >&2
  fi
}

# One run at a time: a slow night must not overlap the next, and a skipped night is said.
exec 9>>"$LOCK_FILE"
if ! flock -n 9; then
  alert "nightly DLI job not started: another run still holds $LOCK_FILE (exit 75); this night's SQL did not run"
  exit 75
fi

# Last night's summary must not be read as tonight's.
rm -f -- "$SUMMARY"

# One load a night: a retry of the same night (by hand, or by cron after a reboot) re-attaches
# to the night's job, or submits nothing when it FINISHED, instead of loading twice. (bash's
# own printf gives the date: no `date` needed.)
printf -v today '%(%F)T' -1
unset DLI_WAIT_IDEMPOTENCY_KEY
args=(run --sql-file "$SQL_FILE" --queue "${DLI_QUEUE:-default}"
  --idempotency-key "${KEY_PREFIX:-nightly}-$today"
  --timeout "${DLI_WAIT_TIMEOUT:-4h}" --stall-timeout "${DLI_WAIT_STALL_TIMEOUT:-45m}"
  --cancel-on "${DLI_WAIT_CANCEL_ON:-timeout,stall,signal}" --summary-file "$SUMMARY")

# dli-wait runs in its own process group (set -m) and this script waits for it: a signal to
# this script is passed on once (trap), so dli-wait cancels the job and the alert still runs.
pid=""
# shellcheck disable=SC2329 # called by the traps below
forward() {
  if [ -n "$pid" ]; then
    kill -"$1" "$pid" 2>/dev/null || true
  else
    alert "nightly DLI job not started: SIG$1 came before dli-wait did; nothing was submitted"
    case "$1" in HUP) exit 129 ;; INT) exit 130 ;; *) exit 143 ;; esac
  fi
}
for sig in TERM INT HUP; do
  # shellcheck disable=SC2064 # the signal's name is fixed now, on purpose
  trap "forward $sig" "$sig"
done
set -m
if [ "${QUIET:-}" = 1 ]; then
  dli-wait "${args[@]}" >"$LOG" 2>&1 &
else
  dli-wait "${args[@]}" &
fi
pid=$!
set +m
status=0
wait "$pid" || status=$?
# A trapped signal ends `wait` early: wait again, for dli-wait's own exit status.
while kill -0 "$pid" 2>/dev/null; do
  status=0
  wait "$pid" || status=$?
done
trap - TERM INT HUP

if [ "$status" -ne 0 ]; then
  if [ "${QUIET:-}" = 1 ]; then cat -- "$LOG" >&2; fi
  # The summary names the job, its state and DLI's reason; before a submit, the error.
  reason=$(jq -r 'if (.jobs // []) | length > 0
      then .jobs[0] | "job \(.job_id // "?") \(.status // "?"): \(.message // "no reason given")"
      else .error // "no reason given" end' "$SUMMARY" 2>/dev/null) ||
    reason="no summary written (dli-wait exited before it could write $SUMMARY)"
  alert "nightly DLI job did not finish (exit $status): $reason"
fi
exit "$status"
