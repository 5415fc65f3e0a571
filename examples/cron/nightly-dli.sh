#!/usr/bin/env bash
# Nightly DLI job for cron or a systemd timer: submit the SQL, wait, and alert on anything
# but FINISHED. The summary JSON is left for dashboards and for the alert text.
#
# Runs as cron runs it: nothing in the environment but HOME, LOGNAME, SHELL and
# PATH=/usr/bin:/bin (tests/it/examples.rs runs it that way, under env -i).
#
#   DLI_WAIT_ENV_FILE  (default /etc/dli-wait/nightly.env, mode 0600) KEY=value lines, read
#                      with every variable exported:
#     HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID, HUAWEICLOUD_SDK_REGION
#     SQL_FILE, STATE_DIR, DLI_QUEUE      what to run, where to keep the summary, which queue
#     ALERT_WEBHOOK   where to POST a failure (optional; otherwise the exit code and cron mail)
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

SQL_FILE=${SQL_FILE:-/etc/dli-wait/nightly.sql}
STATE_DIR=${STATE_DIR:-/var/lib/dli-wait}
SUMMARY="$STATE_DIR/nightly-summary.json"
mkdir -p "$STATE_DIR"

status=0
dli-wait run --sql-file "$SQL_FILE" --queue "${DLI_QUEUE:-default}" \
  --timeout 4h --stall-timeout 45m --cancel-on timeout,stall,signal \
  --summary-file "$SUMMARY" || status=$?

if [ "$status" -ne 0 ]; then
  # The summary names the state and DLI's reason.
  reason=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); j=(s.get("jobs") or [{}])[0]; print(j.get("status","?"), "-", j.get("message") or s.get("error",""))' "$SUMMARY" 2>/dev/null || echo "no summary written")
  echo "nightly DLI job did not finish (exit $status): $reason" >&2
  if [ -n "${ALERT_WEBHOOK:-}" ]; then
    curl -fsS -m 10 -H 'Content-Type: application/json' \
      --data "$(python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "nightly DLI job: exit $status: $reason")" \
      "$ALERT_WEBHOOK" || echo "alert webhook failed" >&2
  fi
fi
exit "$status"
