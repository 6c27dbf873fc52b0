#!/usr/bin/env bash
# Interleaved A/B of durable SMS accepts (closed loop, delivery through the simulator running
# beside them): PAIRS times A then B, each on a fresh data directory, and the ratio B/A of every
# pair and their median, for accepts/s and for Herald's CPU time per accepted request (user +
# system, from the start of the load to 2 s after it, so the deliveries it started are in).
# For changes of a few percent on a shared, noisy machine, where two batches minutes apart
# differ by more than the change (docs/benchmarks.md).
#
#   A_ENV="HERALD_SQLITE_SYNC_SEPARATELY=false" bench/ab_accepts.sh        # a setting
#   A_HERALD=/tmp/old/herald B_HERALD=build/release/cmd/herald/herald bench/ab_accepts.sh
#
# Environment (defaults in brackets): PAIRS [4]  DURATION [8] s per run  CONNS [32]
#   IO_THREADS [2]  A_ENV / B_ENV [none] space-separated VAR=value for that side's herald
#   A_HERALD / B_HERALD [BUILD_DIR/cmd/herald/herald]  BUILD_DIR [build/release] (must be
#   built: bench/accept_bench.sh builds it)  OUT [mktemp -d]
#   CONFIG [none] a herald.toml for both sides (e.g. a simulator without receipts, as in
#   bench/accept_bench.sh's herald_sms_norcpt rows)
# Every run is bounded by the load generator's duration and a hard `timeout`; only 127.0.0.1.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
PAIRS=${PAIRS:-4}
DURATION=${DURATION:-8}
CONNS=${CONNS:-32}
IO_THREADS=${IO_THREADS:-2}
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
A_HERALD=${A_HERALD:-$BUILD_DIR/cmd/herald/herald}
B_HERALD=${B_HERALD:-$BUILD_DIR/cmd/herald/herald}
A_ENV=${A_ENV:-}
B_ENV=${B_ENV:-}
CONFIG=${CONFIG:-}
LOADGEN=$BUILD_DIR/bench/herald_loadgen
OUT=${OUT:-$(mktemp -d -t herald-ab-XXXXXX)}
PORT=18185
require_positive PAIRS DURATION CONNS IO_THREADS
for f in "$A_HERALD" "$B_HERALD" "$LOADGEN"; do [ -x "$f" ] || die "$f is not built"; done
CONFIG_ARGS=()
if [ -n "$CONFIG" ]; then [ -r "$CONFIG" ] || die "CONFIG $CONFIG is not readable"; CONFIG_ARGS=(--config "$CONFIG"); fi
make_out
trap_cleanup
cat > "$OUT/sms.json" <<'EOF'
{"channel":"sms","message_type":"text","to":"4477009{n:05}","from":"Herald","text":"Benchmark message {n}","client_ref":"b{n}"}
EOF

run_side() {  # side(A|B) pair: runs in this shell (its PIDs stay remembered); RATE= accepts/s
  local side=$1 pair=$2 bin env_list dir
  if [ "$side" = A ]; then bin=$A_HERALD env_list=$A_ENV; else bin=$B_HERALD env_list=$B_ENV; fi
  dir=$(mktemp -d -p "$OUT" "$side-$pair-XXXX")
  "$bin" app create --name ab --data-dir "$dir" --private-key-path "$dir/ab.key" > "$dir/app.json" 2> "$dir/app.err" \
    || { log "app create failed: $(cat "$dir/app.err")"; RATE=0; return; }
  local auth; auth=$(basic_auth_of "$dir/app.json")
  ports_free 30 $PORT || { RATE=0; return; }
  # shellcheck disable=SC2086  # env_list is a list of VAR=value words
  env $env_list "$bin" serve --listen 127.0.0.1:$PORT --data-dir "$dir" --io-threads "$IO_THREADS" \
    --log-level info "${CONFIG_ARGS[@]}" > "$dir/herald.out" 2> "$dir/herald.err" &
  local pid=$!; remember $pid "herald-$side"
  RATE=0 CPU_US=0
  wait_for 20 $pid "herald $side" grep -q 'herald: listening on' "$dir/herald.out" || { RATE=0; return; }
  local ticks0; ticks0=$(cpu_ticks $pid)
  timeout -s KILL $((DURATION + 30)) "$LOADGEN" --url http://127.0.0.1:$PORT/v1/messages -t 1 \
    -d "$DURATION" --max-requests 3000000 --label "$side-$pair" -c "$CONNS" -X POST \
    -H "Authorization: Basic $auth" -H "Content-Type: application/json" \
    --body-file "$OUT/sms.json" --expect-status 202 > "$OUT/$side-$pair.json" 2> "$OUT/$side-$pair.err"
  sleep 2  # the deliveries of the last accepts
  local ticks1; ticks1=$(cpu_ticks $pid)
  stop_pid $pid "herald-$side"; forget $pid
  rm -f "$dir"/herald.db*
  RATE=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["ok_rate"]))' "$OUT/$side-$pair.json" 2>/dev/null || echo 0)
  CPU_US=$(python3 -c 'import json,sys; ok=json.load(open(sys.argv[1]))["ok"]; print(round((int(sys.argv[2]) - int(sys.argv[3])) / int(sys.argv[4]) * 1e6 / ok, 1) if ok else 0)' \
    "$OUT/$side-$pair.json" "$ticks1" "$ticks0" "$HZ" 2>/dev/null || echo 0)
}

log "A: $A_HERALD ${A_ENV:+($A_ENV)}; B: $B_HERALD ${B_ENV:+($B_ENV)}; $PAIRS pairs of $DURATION s, -c $CONNS${CONFIG:+, config $CONFIG}"
ratios=() cpu_ratios=()
for pair in $(seq 1 "$PAIRS"); do
  run_side A "$pair"; a=$RATE ac=$CPU_US
  run_side B "$pair"; b=$RATE bc=$CPU_US
  r=$(python3 -c "print(f'{$b / $a:.3f}' if $a > 0 else 'nan')")
  rc=$(python3 -c "print(f'{$bc / $ac:.3f}' if $ac > 0 else 'nan')")
  ratios+=("$r") cpu_ratios+=("$rc")
  echo "pair $pair: A $a/s ${ac} us/req  B $b/s ${bc} us/req  B/A $r (CPU per request $rc)" | tee -a "$OUT/pairs.txt"
done
python3 - "${ratios[*]}" "${cpu_ratios[*]}" <<'PY' | tee -a "$OUT/pairs.txt"
import statistics, sys
for name, arg in (("accepts/s", sys.argv[1]), ("CPU per request", sys.argv[2])):
    r = [float(x) for x in arg.split() if x != 'nan']
    print(f"median B/A {name} {statistics.median(r):.3f} over {len(r)} pairs (min {min(r):.3f}, max {max(r):.3f})" if r else f"{name}: no valid pair")
PY
