#!/usr/bin/env bash
# One dli-wait process waiting for N jobs at once, against the simulator. See docs/performance.md.
#
#   bench/many_jobs.sh                     # the four runs below (about 11 minutes)
#   bench/many_jobs.sh 1000:10 1000:200    # only these N:RATE runs
#   BENCH_PYTHON=/tmp/venv/bin/python DLI_WAIT=target/release/dli-wait bench/many_jobs.sh
#
# Each run: a fresh simulator serving N jobs (bench/gen_many_jobs.py: LAUNCHING 1 s, one sub-job
# of 100 tasks over 60 s, then FINISHED, so every job has ended 61 s after the simulator
# started), then
#   dli-wait -q --output json --timeout T --max-requests-per-second RATE ID_1 ... ID_N
# under /usr/bin/time -v, with VmRSS sampled every 200 ms. Reported: peak RSS, wall, CPU, the
# requests the simulator saw (count, mean rate, most in any 1 s window, smallest gap) and the
# statuses in the summary line (the last JSON line).
#
# Default runs (N:RATE:TIMEOUT):
#   1000:10:10m  1000:200:10m  10000:10:5m  10000:500:10m
# A run still going BENCH_GUARD (60) seconds after its --timeout is sent SIGTERM (dli-wait then
# writes its summary and exits 143): the run is reported as "killed by the guard".
# Knobs: see bench/lib.sh, plus BENCH_GUARD.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GUARD="${BENCH_GUARD:-60}"
RUNS=("$@")
[[ ${#RUNS[@]} -gt 0 ]] || RUNS=(1000:10:10m 1000:200:10m 10000:10:5m 10000:500:10m)

need_gnu_time
setup_python
setup_binary
setup_out many_jobs
record_machine >&2

to_seconds() { "$PY" -c 'import re,sys
s=sys.argv[1]; n={"s":1,"m":60,"h":3600}
print(sum(int(v)*n[u] for v,u in re.findall(r"(\d+)([smh])", s)))' "$1"; }

# Sample VmRSS of PID every 200 ms into FILE as "ms_since_start rss_kb" until it exits.
sample_rss() {
  local pid="$1" file="$2" start now rss
  start="$(date +%s%3N)"
  while [[ -r /proc/$pid/status ]]; do
    rss="$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    now="$(date +%s%3N)"
    [[ -n "$rss" ]] && echo "$((now - start)) $rss" >>"$file"
    sleep 0.2
  done
}

run_one() {
  local n="$1" rate="$2" timeout="$3" name="n$1-r$2"
  local scenario="$OUT/$name.scenario.json" ids=() rc=0 guard_killed=false
  "$PY" bench/gen_many_jobs.py "$n" >"$scenario"
  mapfile -t ids < <("$PY" bench/gen_many_jobs.py --ids "$n")
  local arg_bytes env_bytes
  arg_bytes=$(printf '%s\0' "$BIN" "${ids[@]}" | wc -c)
  env_bytes=$(env -0 | wc -c)
  log "$name: $n ids = $arg_bytes bytes of arguments + $env_bytes of environment (ARG_MAX $(getconf ARG_MAX))"

  : >"$OUT/$name.rss"
  start_sim "$scenario" "$name"
  log "$name: simulator at $SIM_ENDPOINT; dli-wait --max-requests-per-second $rate --timeout $timeout"
  /usr/bin/time -v -o "$OUT/$name.time" \
    "$BIN" --endpoint "$SIM_ENDPOINT" --timeout "$timeout" --max-requests-per-second "$rate" \
    -q --output json "${ids[@]}" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" &
  local time_pid=$! pid=""
  for _ in $(seq 1 100); do
    pid="$(pgrep -P "$time_pid" || true)"
    [[ -n "$pid" ]] && break
    sleep 0.01
  done
  [[ -n "$pid" ]] && sample_rss "$pid" "$OUT/$name.rss" &
  local sampler=$!
  local limit=$(( $(to_seconds "$timeout") + GUARD )) waited=0
  while kill -0 "$time_pid" 2>/dev/null; do
    if (( waited >= limit )) && [[ $guard_killed == false ]]; then
      log "$name: still running ${GUARD}s past --timeout $timeout: SIGTERM to dli-wait (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      guard_killed=true
    fi
    sleep 1
    waited=$((waited + 1))
  done
  wait "$time_pid" || rc=$?
  wait "$sampler" 2>/dev/null || true
  sim_requests >"$OUT/$name.requests.json"
  stop_sim

  "$PY" bench/timev.py "$OUT/$name.time" >"$OUT/$name.timev.json"
  "$PY" bench/requests_stats.py "$OUT/$name.requests.json" >"$OUT/$name.reqstats.json"
  "$PY" - "$OUT" "$name" "$n" "$rate" "$timeout" "$rc" "$guard_killed" <<'EOF'
import collections, json, os, sys
out, name, n, rate, timeout, rc, guard = sys.argv[1:]
p = lambda ext: os.path.join(out, name + ext)
t, r = json.load(open(p(".timev.json"))), json.load(open(p(".reqstats.json")))
last = None
with open(p(".stdout"), "rb") as f:
    for line in f:
        if line.strip():
            last = line
summary = json.loads(last) if last else {}
statuses = collections.Counter(j["status"] for j in summary.get("jobs", []))
rss = [tuple(map(int, l.split())) for l in open(p(".rss"))] if os.path.exists(p(".rss")) else []
res = {
    "name": name, "jobs": int(n), "rate_limit": float(rate), "timeout": timeout,
    "exit_code": int(rc), "summary_exit_code": summary.get("exit_code"),
    "killed_by_guard": guard == "true", "statuses": dict(statuses),
    "all_finished": statuses.get("FINISHED", 0) == int(n) and int(rc) == 0,
    "max_rss_kb": t["max_rss_kb"], "wall_s": t["wall_s"], "cpu_s": t["cpu_s"],
    "user_s": t["user_s"], "sys_s": t["sys_s"],
    "requests": r["requests"], "mean_rps": r.get("mean_rps"), "max_in_1s": r.get("max_in_1s"),
    "min_gap_ms": r.get("min_gap_ms"), "by_status": r.get("by_status"),
    "max_in_1s_ok": (r.get("max_in_1s") or 0) <= float(rate) + 1,
    "rss_samples": len(rss),
    "sampled_max_rss_kb": max((k for _, k in rss), default=None),
    # The largest RSS seen before the summary: up to the last sample 1 s before the end.
    "sampled_rss_before_last_1s_kb": max((k for ms, k in rss if rss and ms <= rss[-1][0] - 1000),
                                         default=None),
    "stdout_bytes": os.path.getsize(p(".stdout")),
    "summary_line_bytes": len(last) if last else 0,
}
json.dump(res, open(p(".result.json"), "w"))
print(json.dumps(res))
EOF
}

for spec in "${RUNS[@]}"; do
  IFS=: read -r n rate timeout <<<"$spec"
  run_one "$n" "$rate" "${timeout:-10m}" >&2
done

"$PY" - "$OUT" <<'EOF'
import glob, json, os, sys
out = sys.argv[1]
m = json.load(open(os.path.join(out, "machine.json")))
print("\n%s · %d CPUs · %s · %s" % (m["cpu"], m["nproc"], m["kernel"], m["dli_wait"]))
print("\n| jobs | --max-requests-per-second | --timeout | peak RSS | wall | CPU | requests | mean req/s | max in any 1 s | exit | statuses |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
rows = [json.load(open(f)) for f in glob.glob(os.path.join(out, "*.result.json"))]
for r in sorted(rows, key=lambda r: (r["jobs"], r["rate_limit"])):
    print("| %d | %g | %s | %.1f MiB | %.1f s | %.2f s | %d | %.1f | %d | %d%s | %s |" % (
        r["jobs"], r["rate_limit"], r["timeout"], r["max_rss_kb"] / 1024, r["wall_s"], r["cpu_s"],
        r["requests"], r["mean_rps"] or 0, r["max_in_1s"] or 0, r["exit_code"],
        " (guard SIGTERM)" if r["killed_by_guard"] else "",
        ", ".join("%s %d" % kv for kv in sorted(r["statuses"].items()))))
json.dump(rows, open(os.path.join(out, "summary.json"), "w"), indent=1)
EOF
log "done: $OUT/summary.json"
