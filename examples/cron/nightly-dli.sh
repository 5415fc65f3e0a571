#!/usr/bin/env bash
# Nightly DLI job for cron or a systemd timer: submit the SQL, wait, and alert on anything
# but FINISHED. The summary JSON is left for dashboards and for the alert text.
#
#   Environment (e.g. from /etc/dli-wait/nightly.env, mode 0600):
#     HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID, HUAWEICLOUD_SDK_REGION
#     ALERT_WEBHOOK   where to POST a failure (optional; otherwise the exit code and cron mail)
set -euo pipefail

SQL_FILE=${SQL_FILE:-/etc/dli-wait/nightly.sql}
STATE_DIR=${STATE_DIR:-/var/lib/dli-wait}
SUMMARY="$STATE_DIR/nightly-summary.json"
mkdir -p "$STATE_DIR"

status=0
dli-wait run --sql-file "$SQL_FILE" --queue "${DLI_QUEUE:-default}" \
  --timeout 4h --stall-timeout 45m --cancel-on timeout,stall,signal \
  --summary-file "$SUMMARY" || status=$?

if [ "$status" -ne 0 ]; then
  # The last line of the summary names the state and DLI's reason.
  reason=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); j=(s.get("jobs") or [{}])[0]; print(j.get("status","?"), "-", j.get("message") or s.get("error",""))' "$SUMMARY" 2>/dev/null || echo "no summary written")
  echo "nightly DLI job did not finish (exit $status): $reason" >&2
  if [ -n "${ALERT_WEBHOOK:-}" ]; then
    curl -fsS -m 10 -H 'Content-Type: application/json' \
      --data "$(python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "nightly DLI job: exit $status: $reason")" \
      "$ALERT_WEBHOOK" || echo "alert webhook failed" >&2
  fi
fi
exit "$status"
