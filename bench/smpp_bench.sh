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
#
# Every process is started here, remembered by PID and stopped by PID (trap EXIT); every wait is
# bounded; only 127.0.0.1 is used. Exit code 1 when a run did not complete.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
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

log() { echo "[$(date +%T)] $*" >&2; }
die() { log "smpp_bench: $*"; exit 1; }
for v in N CONNS REPS WINDOW IO_THREADS DRAIN_TIMEOUT STALL_S; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done
[ "$N" -le 1000000 ] || die "N must be <= 1000000"
[ "$DRAIN_TIMEOUT" -le 900 ] || die "DRAIN_TIMEOUT must be <= 900"
for c in python3 curl node ss; do command -v $c > /dev/null || die "$c is required"; done
[ -d "$ROOT/tests/node_modules/smpp" ] || die "tests/node_modules/smpp missing: (cd tests && npm ci)"
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
log "results in $OUT"

declare -a PIDS=() PNAMES=()
alive() { kill -0 "$1" 2>/dev/null; }
remember() { PIDS+=("$1"); PNAMES+=("$2"); }
stop_pid() {  # pid name [signal]
  local pid=$1 name=$2 sig=${3:-TERM} i
  alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
  kill -"$sig" "$pid" 2>/dev/null
  for ((i = 0; i < 150; i++)); do alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }; sleep 0.1; done
  kill -"$sig" "$pid" 2>/dev/null   # Kannel: a second request forces shutdown
  for ((i = 0; i < 50; i++)); do alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }; sleep 0.1; done
  log "WARNING: SIGKILL $name ($pid)"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
forget() {  # pid: stopped already
  local i
  for ((i = 0; i < ${#PIDS[@]}; i++)); do [ "${PIDS[$i]}" = "$1" ] && PIDS[$i]=0; done
}
stop() { stop_pid "$1" "$2" "${3:-TERM}"; forget "$1"; }
cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    [ "${PIDS[$i]}" != 0 ] && stop_pid "${PIDS[$i]}" "${PNAMES[$i]}"
  done
  PIDS=(); PNAMES=()
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

port_busy() { ss -Hltn "sport = :$1" | grep -q .; }
ports_free() {
  local t=$1 p i busy; shift
  for ((i = 0; i < t; i++)); do
    busy=""
    for p in "$@"; do port_busy "$p" && busy="$busy $p"; done
    [ -z "$busy" ] && return 0
    [ "$i" = 0 ] && log "ports$busy busy (another benchmark?): waiting up to ${t}s"
    sleep 1
  done
  log "ports$busy still busy"; return 1
}
wait_for() {  # timeout_s pid description command...
  local t=$1 pid=$2 what=$3 i; shift 3
  for ((i = 0; i < t * 10; i++)); do
    "$@" && return 0
    alive "$pid" || { log "$what: process $pid exited"; return 1; }
    sleep 0.1
  done
  log "timed out waiting for $what"; return 1
}
cpu_ticks() { [ -r "/proc/$1/stat" ] && sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}' || echo 0; }
HZ=$(getconf CLK_TCK)

LOADGEN=$BUILD_DIR/bench/herald_loadgen
TRIVIAL=$BUILD_DIR/bench/herald_trivial_server
if [ "$BUILD" = 1 ]; then
  log "building Release (herald, herald_loadgen, herald_trivial_server) in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER=clang++-19 -DHERALD_BUILD_BENCHMARKS=ON > "$OUT/build.log" 2>&1 \
    && nice cmake --build "$BUILD_DIR" -j2 --target herald herald_loadgen herald_trivial_server \
         >> "$OUT/build.log" 2>&1 \
    || die "build failed (see $OUT/build.log)"
fi
[ -x "$LOADGEN" ] && [ -x "$TRIVIAL" ] || die "bench tools missing in $BUILD_DIR/bench (HERALD_BUILD_BENCHMARKS=ON)"
[ -x "$HERALD" ] || die "no herald binary at $HERALD"
cache=$(dirname "$(dirname "$(dirname "$HERALD")")")/CMakeCache.txt
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache" 2>/dev/null)
sanit=$(sed -n 's/^HERALD_SANITIZE:[A-Z]*=//p' "$cache" 2>/dev/null)
NOTE=""
if [ "$btype" != Release ] || [ -n "$sanit" ]; then
  NOTE="NOT A RELEASE BUILD (build type '${btype:-unknown}', sanitizers '${sanit}'): figures not valid"
  log "WARNING: $NOTE"
fi

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), nproc $(nproc), $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  grep PRETTY_NAME /etc/os-release
  echo "compiler: $(clang++-19 --version | head -1)"
  echo "kannel: $(dpkg-query -W -f='${Version}' kannel 2>/dev/null)"
  echo "node: $(node --version), smpp npm $(node -p "require('$ROOT/tests/node_modules/smpp/package.json').version")"
  echo "herald: $HERALD (binary of $(date -r "$HERALD" -Is)) $NOTE"
  echo "herald source: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' + uncommitted changes')"
  echo "N $N per target, loadgen closed loop -c $CONNS, window $WINDOW, herald --io-threads $IO_THREADS, SMSC receipt delay ${RECEIPT_DELAY_MS} ms, REPS $REPS"
  echo "loadavg before: $(cat /proc/loadavg)"
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

start_sink() {  # name
  ports_free 30 "$PORT_SINK" || return 1
  "$TRIVIAL" --listen 127.0.0.1:$PORT_SINK --io-threads 1 --count-statuses > "$OUT/$1.sink.out" 2>&1 &
  SINK_PID=$!; remember $SINK_PID sink
  wait_for 10 $SINK_PID "sink" grep -qs listening "$OUT/$1.sink.out"
}
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
ok_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$OUT/$1.json" 2>/dev/null || echo 0; }

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
  auth=$(python3 -c 'import json,sys,base64; a=json.load(open(sys.argv[1])); print(base64.b64encode((a["api_key"]+":"+a["api_secret"]).encode()).decode())' "$dir/app.json")
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
    --io-threads "$IO_THREADS" --log-level warn > "$dir/herald.out" 2>&1 &
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
  cat > "$dir/kannel.conf" <<EOF
group = core
admin-port = 13000
admin-interface = "127.0.0.1"
admin-password = benchadmin
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "127.0.0.1"
smsbox-port = 13001
smsbox-interface = "127.0.0.1"
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "$dir/bearerbox.log"
log-level = 2
dlr-storage = internal
store-type = file
store-location = "$dir/kannel.store"
store-dump-freq = 10

group = smsc
smsc = smpp
smsc-id = smpp1
host = 127.0.0.1
port = $PORT_SMSC
transceiver-mode = true
smsc-username = kannel
smsc-password = bench
system-type = "VMA"
max-pending-submits = $WINDOW
enquire-link-interval = 30
log-level = 2

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = 13001
sendsms-port = 13013
sendsms-interface = "127.0.0.1"
log-file = "$dir/smsbox.log"
log-level = 2
immediate-sendsms-reply = false

group = sendsms-user
username = bench
password = benchpw
max-messages = 1
concatenation = false

group = sms-service
keyword = default
text = "ok"
max-messages = 0
catch-all = true
EOF
  (cd "$dir" && exec /usr/sbin/bearerbox -v 3 kannel.conf > bearerbox.stdout 2>&1) &
  local bb=$!; remember $bb bearerbox
  wait_for 20 $bb "bearerbox :13001" port_busy 13001 || { FAIL=1; cleanup; return; }
  (cd "$dir" && exec /usr/sbin/smsbox -v 3 kannel.conf > smsbox.stdout 2>&1) &
  local sb=$!; remember $sb smsbox
  sendsms_up() { [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:13013/cgi-bin/sendsms)" = 403 ]; }
  wait_for 30 $bb "kannel bound" smsc_bound kannel || { FAIL=1; cleanup; return; }
  wait_for 20 $sb "sendsms answering" sendsms_up || { FAIL=1; cleanup; return; }
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
