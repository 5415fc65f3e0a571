#!/usr/bin/env bash
# Reproduces two effects of the request pacer (src/dli/client.rs `Pacer`) found while measuring
# many jobs (docs/performance.md, "Findings"). About 95 seconds.
#
#   1. --timeout is not enforced while a poll waits for its pacer slot: 30 jobs at
#      --max-requests-per-second 1 with --timeout 5s run about 30 s (exit 124).
#   2. After a signal, --cancel-on signal's DELETEs wait behind the slots the interrupted polls
#      had reserved: 30 jobs at 1 req/s, SIGTERM 3 s in, exit about 60 s later.
#
#   BENCH_PYTHON=/tmp/venv/bin/python DLI_WAIT=target/release/dli-wait bench/pacer_repro.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=30
setup_python
setup_binary
setup_out pacer_repro
"$PY" bench/gen_many_jobs.py "$N" >"$OUT/scenario.json"
mapfile -t ids < <("$PY" bench/gen_many_jobs.py --ids "$N")

summarise() {  # summarise NAME RC WALL_S
  "$PY" - "$OUT/$1.stdout" "$2" "$3" <<'EOF'
import collections, json, sys
path, rc, wall = sys.argv[1:]
s = json.loads(open(path).read().strip().splitlines()[-1])
jobs = s["jobs"]
print("  exit %s after %.1f s; statuses %s; longest job %.1f s; cancels accepted %d" % (
    rc, float(wall), dict(collections.Counter(j["status"] for j in jobs)),
    max(j["duration_seconds"] for j in jobs),
    sum(1 for j in jobs if (j.get("cancel") or {}).get("accepted"))))
print("  e.g. %r" % jobs[-1]["message"])
EOF
}

start_sim "$OUT/scenario.json" timeout
log "1. $N jobs, --max-requests-per-second 1, --timeout 5s (expected: exit 124 after about 5 s)"
t0=$(date +%s%N); rc=0
"$BIN" --endpoint "$SIM_ENDPOINT" --timeout 5s --max-requests-per-second 1 -q --output json \
  "${ids[@]}" >"$OUT/timeout.stdout" 2>"$OUT/timeout.stderr" || rc=$?
summarise timeout "$rc" "$(( ($(date +%s%N) - t0) / 1000000 )).0e-3"
stop_sim

start_sim "$OUT/scenario.json" signal
log "2. $N jobs, --max-requests-per-second 1, --cancel-on signal, SIGTERM after 3 s (a CI runner kills 7.5 s after its SIGTERM)"
t0=$(date +%s%N); rc=0
"$BIN" --endpoint "$SIM_ENDPOINT" --timeout 10m --max-requests-per-second 1 --cancel-on signal \
  -q --output json "${ids[@]}" >"$OUT/signal.stdout" 2>"$OUT/signal.stderr" &
pid=$!
sleep 3
t1=$(date +%s%N)
kill -TERM "$pid"
wait "$pid" || rc=$?
summarise signal "$rc" "$(( ($(date +%s%N) - t0) / 1000000 )).0e-3"
log "   exit came $(( ($(date +%s%N) - t1) / 1000000 )) ms after SIGTERM"
sim_requests >"$OUT/signal.requests.json"
"$PY" - "$OUT/signal.requests.json" <<'EOF'
import json, sys
dels = sorted(r["at_ms"] for r in json.load(open(sys.argv[1])) if r["method"] == "DELETE")
print("  DELETEs: %d, the first %.1f s and the last %.1f s after the simulator started "
      "(SIGTERM came about 3 s after it)" % (len(dels), dels[0] / 1000, dels[-1] / 1000)
      if dels else "  no DELETE reached the simulator")
EOF
stop_sim
