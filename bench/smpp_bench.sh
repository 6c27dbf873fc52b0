#!/usr/bin/env bash
# SMPP throughput benchmark (issue 5, item 7): N SMS through Herald's SMPP connector to a
# loopback SMS centre (tests/support/smsc.mjs, the `smpp` npm package), and in the SAME run N SMS
# through Kannel's own SMPP client (Debian kannel 1.4.5, smsc = smpp) to the same SMS centre.
#
#   bench/smpp_bench.sh                      # N=20000, REPS=1; prints $OUT/table.md
#   N=3000 bench/smpp_bench.sh               # a quick check
#   BUILD=0 HERALD=/path/to/herald bench/smpp_bench.sh
#
# End to end is the same for both: accept (HTTP, 202) → submit_sm → submit_sm_resp → delivery
# receipt (deliver_sm, esm_class 0x04, answered with deliver_sm_resp) → status callback to a
# counting sink (bench/trivial_server.cpp --count-statuses):
#   Herald  POST /v1/messages → SMPP connector (window WINDOW) → `submitted` and `delivered`
#           signed webhooks; messages durable in SQLite (synchronous=FULL) before the 202.
#   Kannel  GET /cgi-bin/sendsms (dlr-mask=31) → bearerbox smsc=smpp (transceiver,
#           max-pending-submits WINDOW) → DLR callbacks type 8 (SMSC ack) and type 1
#           (delivered) to the sink; store-type=file (Kannel's durable-ish store, no fsync).
# Figures per target (all from the load start, t0 = the load generator's first request):
#   accepted/s       accepted / load elapsed
#   submit_sm/s      submit_sm the SMSC accepted / (last accepted submit_sm − t0)
#   receipts/s       receipts acknowledged (deliver_sm_resp ESME_ROK) / (last one − t0)
#   end-to-end/s     accepted / (last `delivered` callback at the sink − t0)
# and the ratio Herald / Kannel of end-to-end/s (target ≥ 3).
#
# Environment (defaults in brackets):
#   N [20000] messages per target   CONNS [32] closed-loop HTTP connections   REPS [1]
#   WINDOW [64]   IO_THREADS [1] herald --io-threads   RECEIPT_DELAY_MS [0] SMSC receipt delay
#   KANNEL [1]   DRAIN_TIMEOUT [180] s   STALL_S [20] s without progress ends a drain wait
#   BUILD [1] configure + build Release in BUILD_DIR [build/release]
#   HERALD [BUILD_DIR/cmd/herald/herald]   OUT [mktemp -d]
#   HERALD_LOG_LEVEL [warn] Herald's --log-level (info: the store's group-commit statistics at
#   stop, in the run's herald.out)
#
# Every process is started here, remembered by PID and stopped by PID (trap EXIT); every wait is
# bounded; only 127.0.0.1 is used. Exit code 1 when a run did not complete.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
N=${N:-20000}
CONNS=${CONNS:-32}
REPS=${REPS:-1}
WINDOW=${WINDOW:-64}
IO_THREADS=${IO_THREADS:-1}
RECEIPT_DELAY_MS=${RECEIPT_DELAY_MS:-0}
KANNEL=${KANNEL:-1}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-180}
STALL_S=${STALL_S:-20}
BUILD=${BUILD:-1}
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
HERALD=${HERALD:-$BUILD_DIR/cmd/herald/herald}
OUT=${OUT:-$(mktemp -d -t herald-smpp-bench-XXXXXX)}

PORT_HERALD=18390
PORT_SINK=18391
PORT_SMSC=18392
PORT_SMSC_STATS=18393
KANNEL_PORTS="13000 13001 13013"

require_positive N CONNS REPS WINDOW IO_THREADS DRAIN_TIMEOUT STALL_S
[ "$N" -le 1000000 ] || die "N must be <= 1000000"
[ "$DRAIN_TIMEOUT" -le 900 ] || die "DRAIN_TIMEOUT must be <= 900"
for c in python3 curl node ss; do command -v $c > /dev/null || die "$c is required"; done
[ -d "$ROOT/tests/node_modules/smpp" ] || die "tests/node_modules/smpp missing: (cd tests && npm ci)"
make_out

# Processes (bench/lib.sh): started here, remembered by PID, stopped by PID; `stop` also
# forgets them, so that cleanup passes them over.
stop() { stop_pid "$1" "$2" "${3:-TERM}"; forget "$1"; }
trap_cleanup

LOADGEN=$BUILD_DIR/bench/herald_loadgen
TRIVIAL=$BUILD_DIR/bench/herald_trivial_server
if [ "$BUILD" = 1 ]; then
  log "building Release (herald, herald_loadgen, herald_trivial_server) in $BUILD_DIR"
  configure_release > "$OUT/build.log" 2>&1 \
    && nice cmake --build "$BUILD_DIR" -j2 --target herald herald_loadgen herald_trivial_server \
         >> "$OUT/build.log" 2>&1 \
    || die "build failed (see $OUT/build.log)"
fi
[ -x "$LOADGEN" ] && [ -x "$TRIVIAL" ] || die "bench tools missing in $BUILD_DIR/bench (HERALD_BUILD_BENCHMARKS=ON)"
[ -x "$HERALD" ] || die "no herald binary at $HERALD"
NOTE=""
if what=$(not_release_build "$HERALD"); then
  NOTE="NOT A RELEASE BUILD ($what): figures not valid"
  log "WARNING: $NOTE"
fi

{
  env_machine
  env_kannel
  echo "node: $(node --version), smpp npm $(node -p "require('$ROOT/tests/node_modules/smpp/package.json').version")"
  echo "herald: $HERALD (binary of $(date -r "$HERALD" -Is)) $NOTE"
  env_source
  echo "N $N per target, loadgen closed loop -c $CONNS, window $WINDOW, herald --io-threads $IO_THREADS, SMSC receipt delay ${RECEIPT_DELAY_MS} ms, REPS $REPS"
  env_machine_state before
} > "$OUT/env.txt"
cat "$OUT/env.txt" >&2

sink_stats() { curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$PORT_SINK/stats"; }
sink_delivered() {
  sink_stats | python3 -c '
import json, sys
try:
    print(json.load(sys.stdin)["statuses"]["delivered"]["count"])
except Exception:
    print(-1)'
}
smsc_stats() { curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$PORT_SMSC_STATS/stats"; }
smsc_bound() { smsc_stats | grep -q "\"$1/"; }

start_smsc() {  # name
  ports_free 30 "$PORT_SMSC" "$PORT_SMSC_STATS" || return 1
  node "$ROOT/tests/support/smsc.mjs" --port $PORT_SMSC --stats-port $PORT_SMSC_STATS \
    --receipt-delay-ms "$RECEIPT_DELAY_MS" > "$OUT/$1.smsc.out" 2>&1 &
  SMSC_PID=$!; remember $SMSC_PID smsc
  wait_for 10 $SMSC_PID "smsc" grep -qs listening "$OUT/$1.smsc.out"
}
wait_drain() {  # name want
  local name=$1 want=$2 d last="" t0 tl now ok=false
  t0=$(date +%s); tl=$t0
  while :; do
    d=$(sink_delivered); now=$(date +%s)
    if [ "$d" -ge "$want" ]; then ok=true; break; fi
    [ "$d" != "$last" ] && { last=$d; tl=$now; }
    if (( now - tl >= STALL_S )); then log "WARNING: $name: no progress for ${STALL_S}s at delivered $d/$want"; break; fi
    if (( now - t0 >= DRAIN_TIMEOUT )); then log "WARNING: $name: drain timeout at delivered $d/$want"; break; fi
    sleep 0.2
  done
  echo "{\"complete\": $ok, \"waited_s\": $(( $(date +%s) - t0 )), \"delivered_target\": $want}" > "$OUT/$name.drain.json"
  $ok
}
run_load() {  # name url args...
  local name=$1 url=$2; shift 2
  timeout -s KILL 900 "$LOADGEN" --url "$url" -c "$CONNS" -t 1 -d 600 --max-requests "$N" \
    --label "$name" "$@" > "$OUT/$name.json" 2> "$OUT/$name.err" \
    || log "WARNING: $name: load generator exit code $?"
}

FAIL=0
cat > "$OUT/sms.json" <<'EOF'
{"channel":"sms","message_type":"text","to":"4477{n:08}","from":"Herald","text":"Benchmark message {n}","client_ref":"b{n}"}
EOF

herald_run() {  # rep
  local name="herald-r$1"
  ports_free 60 "$PORT_HERALD" || { FAIL=1; return; }
  start_smsc "$name" || { FAIL=1; return; }
  start_sink "$name" || { FAIL=1; cleanup; return; }
  local dir; dir=$(mktemp -d -p "$OUT" "herald-r$1-XXXX")
  "$HERALD" app create --name bench --status-url "http://127.0.0.1:$PORT_SINK/status" \
    --data-dir "$dir" --private-key-path "$dir/k" > "$dir/app.json" 2> "$dir/app.err" \
    || { log "herald app create failed: $(cat "$dir/app.err")"; FAIL=1; cleanup; return; }
  local auth
  auth=$(basic_auth_of "$dir/app.json")
  cat > "$dir/herald.toml" <<EOF
[routes]
sms = ["smsc"]

[connectors.smsc]
type = "smpp"
host = "127.0.0.1"
port = $PORT_SMSC
system_id = "herald"
password = "bench"
window = $WINDOW
EOF
  "$HERALD" serve --listen 127.0.0.1:$PORT_HERALD --data-dir "$dir" --config "$dir/herald.toml" \
    --io-threads "$IO_THREADS" --log-level "${HERALD_LOG_LEVEL:-warn}" > "$dir/herald.out" 2>&1 &
  local hp=$!; remember $hp herald
  wait_for 20 $hp "herald listening" grep -qs "listening on" "$dir/herald.out" || { FAIL=1; cleanup; return; }
  wait_for 20 $hp "herald bound" smsc_bound herald || { FAIL=1; cleanup; return; }
  local c0 c1 s0; c0=$(cpu_ticks $hp); s0=$(cpu_ticks $SMSC_PID)
  log "$name: $N SMS through Herald's SMPP connector"
  run_load "$name" "http://127.0.0.1:$PORT_HERALD/v1/messages" -X POST --body-file "$OUT/sms.json" \
    -H "Content-Type: application/json" -H "Authorization: Basic $auth" --expect-status 202
  local acc; acc=$(ok_of "$name")
  wait_drain "$name" "$acc" || FAIL=1
  c1=$(cpu_ticks $hp)
  sink_stats > "$OUT/$name.sink.json"
  smsc_stats > "$OUT/$name.smsc.json"
  echo "{\"server_ticks\": $((c1 - c0)), \"smsc_ticks\": $(( $(cpu_ticks $SMSC_PID) - s0 )), \"hz\": $HZ, \"system_id\": \"herald\"}" > "$OUT/$name.cpu.json"
  stop $hp herald
  stop $SINK_PID sink
  stop $SMSC_PID smsc
  rm -f "$dir"/herald.db*
  sleep 1
}

kannel_run() {  # rep
  local name="kannel-r$1" b
  for b in /usr/sbin/bearerbox /usr/sbin/smsbox; do
    [ -x "$b" ] || { log "$b missing (apt-get install kannel): kannel skipped"; return; }
  done
  ports_free 120 $KANNEL_PORTS || { FAIL=1; return; }
  start_smsc "$name" || { FAIL=1; return; }
  start_sink "$name" || { FAIL=1; cleanup; return; }
  local dir=$OUT/kannel-r$1
  mkdir -p "$dir"
  # As ../shared/peers/kannel/kannel.conf, with the fake SMSC replaced by Kannel's SMPP client
  # to the SMS centre Herald used.
  kannel_conf "$dir" file "group = smsc
smsc = smpp
smsc-id = smpp1
host = 127.0.0.1
port = $PORT_SMSC
transceiver-mode = true
smsc-username = kannel
smsc-password = bench
system-type = \"VMA\"
max-pending-submits = $WINDOW
enquire-link-interval = 30
log-level = 2" > "$dir/kannel.conf"
  (cd "$dir" && exec /usr/sbin/bearerbox -v 3 kannel.conf > bearerbox.stdout 2>&1) &
  local bb=$!; remember $bb bearerbox
  wait_for 20 $bb "bearerbox :13001" port_busy 13001 || { FAIL=1; cleanup; return; }
  (cd "$dir" && exec /usr/sbin/smsbox -v 3 kannel.conf > smsbox.stdout 2>&1) &
  local sb=$!; remember $sb smsbox
  wait_for 30 $bb "kannel bound" smsc_bound kannel || { FAIL=1; cleanup; return; }
  wait_for 20 $sb "sendsms answering" sendsms_up --noproxy '*' || { FAIL=1; cleanup; return; }
  sleep 1
  local dlr_url="http%3A%2F%2F127.0.0.1%3A$PORT_SINK%2Fdlr%3Ftype%3D%25d"
  local path="/cgi-bin/sendsms?username=bench&password=benchpw&from=Herald&text=Benchmark%20message%20{n}&to=4477{n:08}&dlr-mask=31&dlr-url=$dlr_url"
  local c0 c1 s0; c0=$(( $(cpu_ticks $bb) + $(cpu_ticks $sb) )); s0=$(cpu_ticks $SMSC_PID)
  log "$name: $N SMS through Kannel's SMPP client"
  run_load "$name" "http://127.0.0.1:13013$path" --expect-status 202 \
    --expect-body-prefix "0:" --expect-body-prefix "3:"
  local acc; acc=$(ok_of "$name")
  wait_drain "$name" "$acc" || FAIL=1
  c1=$(( $(cpu_ticks $bb) + $(cpu_ticks $sb) ))
  sink_stats > "$OUT/$name.sink.json"
  smsc_stats > "$OUT/$name.smsc.json"
  echo "{\"server_ticks\": $((c1 - c0)), \"smsc_ticks\": $(( $(cpu_ticks $SMSC_PID) - s0 )), \"hz\": $HZ, \"system_id\": \"kannel\"}" > "$OUT/$name.cpu.json"
  stop $sb smsbox
  stop $bb bearerbox
  stop $SINK_PID sink
  stop $SMSC_PID smsc
  rm -f "$dir"/kannel.store*
  sleep 1
}

for ((rep = 1; rep <= REPS; rep++)); do
  herald_run "$rep"
  [ "$KANNEL" = 1 ] && kannel_run "$rep"
done
env_machine_state after >> "$OUT/env.txt"

python3 - "$OUT" > "$OUT/table.md" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def load(p):
    try:
        return json.load(open(p))
    except Exception:
        return None
rows = {}
for p in sorted(glob.glob(os.path.join(out, "*-r*.json"))):
    base = os.path.basename(p)
    if base.count(".") != 1:
        continue
    name = base[:-5]
    lg = load(p)
    if not lg or "ok" not in lg:
        continue
    cpu = load(os.path.join(out, name + ".cpu.json")) or {}
    sink = load(os.path.join(out, name + ".sink.json")) or {}
    smsc = load(os.path.join(out, name + ".smsc.json")) or {}
    drain = load(os.path.join(out, name + ".drain.json")) or {}
    t0 = lg["start_unix_ms"]
    st = (smsc.get("stats") or {}).get(cpu.get("system_id", ""), {})
    deliv = (sink.get("statuses") or {}).get("delivered", {})
    per = lambda n, t: n / ((t - t0) / 1000.0) if n and t and t > t0 else None
    rows[name] = {
        "accepted": lg["ok"], "errors": lg.get("errors"), "accepted_per_s": lg["ok_rate"],
        "p99_ms": lg["latency_ms"]["p99"],
        "submit_per_s": per(st.get("accepted"), st.get("last_submit_ms")),
        "receipts_per_s": per(st.get("receipts_acked"), st.get("last_receipt_ack_ms")),
        "e2e_per_s": per(min(lg["ok"], deliv.get("count", 0)), deliv.get("last_ms")) if deliv.get("count", 0) >= lg["ok"] else None,
        "delivered": deliv.get("count", 0), "smsc_accepted": st.get("accepted"),
        "throttled": st.get("throttled"), "complete": drain.get("complete"),
        "cpu_pct": (cpu.get("server_ticks", 0) / cpu.get("hz", 100)) / ((deliv.get("last_ms", t0) - t0) / 1000.0) * 100 if deliv.get("last_ms") else None,
    }
f = lambda v, spec=",.0f": "—" if v is None else format(v, spec)
print("| run | accepted | accepted/s | HTTP p99 ms | submit_sm/s | receipts/s | end-to-end/s | delivered callbacks | server CPU % | complete |")
print("|---|---|---|---|---|---|---|---|---|---|")
for k, r in rows.items():
    print(f"| {k} | {r['accepted']} | {f(r['accepted_per_s'])} | {f(r['p99_ms'], '.1f')} | {f(r['submit_per_s'])} | {f(r['receipts_per_s'])} | {f(r['e2e_per_s'])} | {r['delivered']} | {f(r['cpu_pct'])} | {r['complete']} |")
h = [r["e2e_per_s"] for k, r in rows.items() if k.startswith("herald") and r["e2e_per_s"]]
kn = [r["e2e_per_s"] for k, r in rows.items() if k.startswith("kannel") and r["e2e_per_s"]]
if h and kn:
    ratio = (sum(h) / len(h)) / (sum(kn) / len(kn))
    print(f"\nHerald / Kannel end-to-end: **{ratio:.2f}x** (target >= 3x)")
json.dump(rows, open(os.path.join(out, "summary.json"), "w"), indent=1)
PY
cat "$OUT/table.md" >&2
log "results in $OUT"
exit $FAIL
