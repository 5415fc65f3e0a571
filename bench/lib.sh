# Shared by bench/*.sh (sourced, not run). Sets up the tools, the binary under test and the
# simulator. Knobs (environment):
#   DLI_WAIT       the dli-wait binary to measure (default: `cargo build --release`, then a copy
#                  of target/release/dli-wait at target/bench/dli-wait, so a concurrent rebuild
#                  cannot swap the binary in the middle of a measurement)
#   BENCH_PYTHON   a Python with huaweicloudsdkcore/huaweicloudsdkdli 3.1.219 (default: a venv
#                  created at target/bench-venv)
#   BENCH_OUT      where raw results go (default: target/bench/results/<script>-<UTC time>)

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$BENCH_ROOT"

SDK_PIN="3.1.219"
export NO_PROXY="127.0.0.1,localhost,::1" no_proxy="127.0.0.1,localhost,::1"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# GNU time (-v) from Debian's `time` package; bash's `time` keyword has no -v.
need_gnu_time() {
  if [[ ! -x /usr/bin/time ]]; then
    log "installing GNU time (apt-get install -y time)"
    apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
  fi
  local report
  report="$(/usr/bin/time -v true 2>&1)" || true
  [[ $report == *"Maximum resident set size"* ]] || die "/usr/bin/time is not GNU time"
}

# A Python with the official SDK, in $PY.
setup_python() {
  if [[ -n "${BENCH_PYTHON:-}" ]]; then
    PY="$BENCH_PYTHON"
  else
    local venv="$BENCH_ROOT/target/bench-venv"
    PY="$venv/bin/python"
    if ! "$PY" -c 'import huaweicloudsdkdli' 2>/dev/null; then
      log "creating $venv with huaweicloudsdkcore==$SDK_PIN huaweicloudsdkdli==$SDK_PIN"
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q "huaweicloudsdkcore==$SDK_PIN" "huaweicloudsdkdli==$SDK_PIN"
    fi
  fi
  "$PY" -c 'import huaweicloudsdkcore, huaweicloudsdkdli' || die "$PY cannot import the Huawei Cloud SDK"
}

# The binary under test, in $BIN.
setup_binary() {
  if [[ -n "${DLI_WAIT:-}" ]]; then
    BIN="$DLI_WAIT"
  else
    log "cargo build --release"
    cargo build --release --quiet
    mkdir -p target/bench
    cp target/release/dli-wait target/bench/dli-wait
    BIN="$BENCH_ROOT/target/bench/dli-wait"
  fi
  [[ -x "$BIN" ]] || die "no dli-wait binary at $BIN"
}

setup_out() {
  OUT="${BENCH_OUT:-$BENCH_ROOT/target/bench/results/$1-$(date -u +%Y%m%dT%H%M%SZ)}"
  mkdir -p "$OUT"
  log "raw results in $OUT"
}

# Describe the machine and the build, as JSON, into $OUT/machine.json.
record_machine() {
  local cpu kernel commit dirty
  cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  kernel="$(uname -sr)"
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  dirty="$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | wc -l)"
  "$PY" - "$OUT/machine.json" "$(nproc)" "$cpu" "$kernel" "$("$BIN" --version)" "$commit" "$dirty" \
      "$(free -m | awk '/^Mem:/{print $2}')" "$("$PY" --version 2>&1)" <<'EOF'
import json, sys
out, nproc, cpu, kernel, version, commit, dirty, mem, py = sys.argv[1:]
m = {"nproc": int(nproc), "cpu": cpu, "kernel": kernel, "mem_mb": int(mem),
     "dli_wait": version, "commit": commit, "src_files_modified": int(dirty), "python": py}
json.dump(m, open(out, "w"))
print(json.dumps(m))
EOF
}

SIM_PID=""
# start_sim SCENARIO NAME: serve SCENARIO; sets SIM_PID, SIM_ENDPOINT and exports the
# simulator's keys as HUAWEICLOUD_SDK_AK/SK/PROJECT_ID.
start_sim() {
  local scenario="$1" name="$2" line="" i
  "$BIN" simulate --listen 127.0.0.1:0 --output json --scenario "$scenario" \
    >"$OUT/$name.sim.out" 2>"$OUT/$name.sim.err" &
  SIM_PID=$!
  for i in $(seq 1 200); do
    # A whole line (with its newline): with thousands of jobs it is hundreds of kB.
    line="$(head -n1 "$OUT/$name.sim.out" 2>/dev/null | wc -l)"
    [[ $line == 1 ]] && break
    line=""
    kill -0 "$SIM_PID" 2>/dev/null || die "the simulator exited: $(cat "$OUT/$name.sim.err")"
    sleep 0.05
  done
  [[ -n "$line" ]] || die "the simulator printed nothing within 10 s"
  # Through stdin: with thousands of jobs the line is longer than one argument may be.
  local vars
  vars="$("$PY" -c '
import json, shlex, sys
d = json.loads(sys.stdin.readline())
for k, v in (("SIM_ENDPOINT", d["endpoint"]), ("HUAWEICLOUD_SDK_AK", d["ak"]),
             ("HUAWEICLOUD_SDK_SK", d["sk"]), ("HUAWEICLOUD_SDK_PROJECT_ID", d["project_id"])):
    print("%s=%s" % (k, shlex.quote(v)))
' <"$OUT/$name.sim.out")" || die "cannot read the simulator's first line"
  eval "$vars"
  export HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK HUAWEICLOUD_SDK_PROJECT_ID
}

stop_sim() {
  if [[ -n "$SIM_PID" ]]; then
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=""
  fi
}
trap stop_sim EXIT

# The simulator's request log (JSON list) on stdout.
sim_requests() { curl -sS --noproxy '*' "$SIM_ENDPOINT/_sim/requests"; }
# How many entries the log holds now.
sim_request_count() { sim_requests | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

