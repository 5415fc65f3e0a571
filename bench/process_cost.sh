#!/usr/bin/env bash
# The process's own cost while waiting for one job, dli-wait next to the loop people write with
# Huawei Cloud's Python SDK (bench/sdk_poller.py). See docs/performance.md.
#
#   bench/process_cost.sh
#   BENCH_PYTHON=/tmp/venv/bin/python DLI_WAIT=target/release/dli-wait bench/process_cost.sh
#
# Measures, against `dli-wait simulate --scenario bench/scenarios/cost.json` (one job RUNNING
# for 1000 h, task counts moving):
#   a. dli-wait polling every 2 s for BENCH_SECONDS (60): peak RSS, CPU, requests
#   b. sdk_poller.py doing the same with the official SDK: the same figures
#   c. time from exec to the first request, BENCH_RUNS (20) times each, against a fake DLI
#      (bench/first_request.py); and hyperfine of `--version` (start-up only), if installed
# Knobs: see bench/lib.sh, plus BENCH_SECONDS, BENCH_RUNS.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECONDS_TO_WAIT="${BENCH_SECONDS:-60}"
RUNS="${BENCH_RUNS:-20}"
JOB="c0575e11-0000-4000-8000-000000000001"   # the id in bench/scenarios/cost.json

need_gnu_time
setup_python
setup_binary
setup_out process_cost
record_machine >&2

start_sim bench/scenarios/cost.json cost
log "simulator at $SIM_ENDPOINT (pid $SIM_PID)"

# a. dli-wait, 2 s cadence (exponential from 2 s capped at 2 s: jitter shortens a delay by up
#    to 20 %, so polls land 1.6-2 s apart), until --timeout.
skip="$(sim_request_count)"
log "a. dli-wait for ${SECONDS_TO_WAIT}s"
rc=0
"$PY" bench/rusage.py -o "$OUT/dli-wait.rusage.json" -- /usr/bin/time -v -o "$OUT/dli-wait.time" \
  "$BIN" --endpoint "$SIM_ENDPOINT" --timeout "${SECONDS_TO_WAIT}s" \
  --poll-policy exponential --poll-interval 2s --max-poll-interval 2s --stall-timeout off \
  -q "$JOB" >"$OUT/dli-wait.stdout" 2>"$OUT/dli-wait.stderr" || rc=$?
[[ $rc == 124 ]] || die "dli-wait exited $rc, expected 124 (--timeout): $(cat "$OUT/dli-wait.stderr")"
sim_requests >"$OUT/dli-wait.requests.json"
"$PY" bench/requests_stats.py --skip "$skip" "$OUT/dli-wait.requests.json" >"$OUT/dli-wait.reqstats.json"
"$PY" bench/timev.py "$OUT/dli-wait.time" >"$OUT/dli-wait.timev.json"

# b. The SDK loop: ShowSqlJobProgress every 2 s until the duration passes.
skip="$(sim_request_count)"
log "b. sdk_poller.py for ${SECONDS_TO_WAIT}s"
rc=0
"$PY" bench/rusage.py -o "$OUT/sdk.rusage.json" -- /usr/bin/time -v -o "$OUT/sdk.time" \
  "$PY" bench/sdk_poller.py --endpoint "$SIM_ENDPOINT" --interval 2 --duration "$SECONDS_TO_WAIT" \
  "$JOB" >"$OUT/sdk.stdout" 2>"$OUT/sdk.stderr" || rc=$?
[[ $rc == 124 ]] || die "sdk_poller.py exited $rc, expected 124: $(tail -5 "$OUT/sdk.stderr")"
sim_requests >"$OUT/sdk.requests.json"
"$PY" bench/requests_stats.py --skip "$skip" "$OUT/sdk.requests.json" >"$OUT/sdk.reqstats.json"
"$PY" bench/timev.py "$OUT/sdk.time" >"$OUT/sdk.timev.json"
stop_sim

# c. Time to first request (a fake DLI that answers FINISHED, so each run exits at once).
log "c. time to first request, $RUNS runs each"
"$PY" bench/first_request.py --runs "$RUNS" --label dli-wait -- \
  "$BIN" --endpoint '{endpoint}' -q "$JOB" >"$OUT/dli-wait.first.json"
"$PY" bench/first_request.py --runs "$RUNS" --label sdk -- \
  "$PY" bench/sdk_poller.py --endpoint '{endpoint}' "$JOB" >"$OUT/sdk.first.json"

if command -v hyperfine >/dev/null; then
  log "hyperfine: start-up only (--version)"
  shell_none=()
  hyperfine --help | grep -q -- '--shell' && shell_none=(-N)
  hyperfine "${shell_none[@]}" --warmup 3 --style basic --export-json "$OUT/hyperfine.json" \
    "$BIN --version" "$PY bench/sdk_poller.py --version" "$PY -c pass" >"$OUT/hyperfine.txt" 2>&1
else
  log "hyperfine not installed (apt-get install -y hyperfine): skipped"
fi

"$PY" - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None
m = load("machine.json")
print("\n%s · %d CPUs · %s · %s · %s" % (m["cpu"], m["nproc"], m["kernel"], m["dli_wait"], m["python"]))
print("\n| one job, 2 s cadence | peak RSS | CPU user+sys (GNU time) | CPU user+sys (wait4) | wall | requests | first request median / p90 (%d runs) |"
      % load("dli-wait.first.json")["runs"])
print("|---|---|---|---|---|---|---|")
for label, key in (("dli-wait", "dli-wait"), ("Python SDK loop", "sdk")):
    t, u = load(key + ".timev.json"), load(key + ".rusage.json")
    r, f = load(key + ".reqstats.json"), load(key + ".first.json")
    print("| %s | %.1f MiB | %.2f s | %.3f s | %.1f s | %d | %.1f ms / %.1f ms |" % (
        label, t["max_rss_kb"] / 1024, t["cpu_s"], u["cpu_s"], t["wall_s"], r["requests"],
        f["median_ms"], f["p90_ms"]))
h = load("hyperfine.json")
if h:
    print("\n| start-up only (hyperfine) | mean | σ |")
    print("|---|---|---|")
    for res in h["results"]:
        print("| `%s` | %.1f ms | %.1f ms |" % (res["command"].replace(os.getcwd() + "/", ""),
                                              res["mean"] * 1000, res["stddev"] * 1000))
json.dump({k: load(k + ".json") for k in (
    "machine", "dli-wait.timev", "dli-wait.rusage", "dli-wait.reqstats", "dli-wait.first",
    "sdk.timev", "sdk.rusage", "sdk.reqstats", "sdk.first")}, open(os.path.join(out, "summary.json"), "w"), indent=1)
EOF
log "done: $OUT/summary.json"
