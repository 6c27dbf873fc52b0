#!/usr/bin/env bash
# Durable-accept benchmark (issue 2): Herald vs this machine's ceiling vs Kannel, one batch,
# one load generator (wrk, 1 thread, CONNS connections — the Kannel peer harness's own).
#
#   bench/accept_bench.sh            # ~4 min; writes $OUT/table.md
#   DURATION=20 bench/accept_bench.sh
#
# Runs, interleaved so machine drift hits all alike:
#   ceiling   nginx answering a constant 202 (2 workers)
#   herald    SMS, and RCS->SMS failover: max throughput, then paced at RATE req/s
#   kannel    ../shared/peers/kannel/run.sh STORE=none and STORE=file (no DLR), max throughput
# After each Herald run the database is checked: rows >= acknowledged messages.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"
DURATION=${DURATION:-15}
CONNS=${CONNS:-32}
RATE=${RATE:-10000}
PACED_CONNS=${PACED_CONNS:-50}
IO_THREADS=${IO_THREADS:-2}
OUT=${OUT:-$(mktemp -d -t herald-bench-XXXXXX)}
mkdir -p "$OUT"
KANNEL=${KANNEL:-$HERE/../shared/peers/kannel/run.sh}
PORT_HERALD=18180
PORT_CEILING=18181

for b in wrk nginx sqlite3; do
  command -v $b >/dev/null || { echo "installing wrk nginx-light sqlite3 kannel kannel-extras" >&2;
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light sqlite3 kannel kannel-extras >/dev/null; break; }
done
HERALD_SKIP_NPM=1 scripts/deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-19 \
  -DHERALD_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target herald -j"$(nproc)" >/dev/null
HERALD=$HERE/build/release/cmd/herald/herald

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "loadavg before: $(cat /proc/loadavg)"
  echo "wrk -t1 -c$CONNS -d${DURATION}s; paced: -c$PACED_CONNS at ~$RATE req/s; herald --io-threads $IO_THREADS"
} | tee "$OUT/env.txt"

# ---- ceiling
sed -e "s|PIDFILE|$OUT/nginx.pid|" -e "s|ERRLOG|$OUT/nginx.err|" -e "s|PORT|$PORT_CEILING|" \
  bench/ceiling-nginx.conf > "$OUT/nginx.conf"
nginx -c "$OUT/nginx.conf"
sleep 0.5
PIDS+=("$(cat "$OUT/nginx.pid")")

# ---- herald
DATA="$OUT/herald-data"
mkdir -p "$DATA"
"$HERALD" app create --name bench --data-dir "$DATA" --private-key-path "$DATA/bench.key" > "$DATA/app.json"
KEY=$(sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p' "$DATA/app.json")
SECRET=$(sed -n 's/.*"api_secret":"\([^"]*\)".*/\1/p' "$DATA/app.json")
export HB_AUTH="Basic $(printf '%s:%s' "$KEY" "$SECRET" | base64 -w0)"
"$HERALD" serve --data-dir "$DATA" --listen 127.0.0.1:$PORT_HERALD --io-threads "$IO_THREADS" \
  --log-level warn > "$OUT/herald.out" 2> "$OUT/herald.err" &
PIDS+=("$!")
for _ in $(seq 1 100); do grep -q listening "$OUT/herald.out" && break; sleep 0.1; done

# run NAME URL KIND CONNS DELAY_MS -> $OUT/NAME.txt with the HB_RESULT line
run() {
  local name=$1 url=$2 kind=$3 conns=$4 delay=$5
  HB_KIND=$kind HB_DELAY_MS=$delay timeout $((DURATION + 30)) \
    wrk -t1 -c"$conns" -d"${DURATION}s" --latency -s bench/accept.lua "$url" > "$OUT/$name.txt" 2>&1 || true
  grep -E '^HB_(RESULT|FIRST_BAD)' "$OUT/$name.txt" | sed "s/^/$name: /"
  sleep 2
}
val() { sed -n "s/.*HB_RESULT.* $2=\([0-9.]*\).*/\1/p" "$OUT/$1.txt"; }

rows_before=0
messages() { sqlite3 "$DATA/herald.db" 'select count(*) from message'; }

run ceiling            http://127.0.0.1:$PORT_CEILING sms "$CONNS" 0
run herald_sms         http://127.0.0.1:$PORT_HERALD  sms "$CONNS" 0
run herald_failover    http://127.0.0.1:$PORT_HERALD  failover "$CONNS" 0
run ceiling_paced      http://127.0.0.1:$PORT_CEILING sms "$PACED_CONNS" $((PACED_CONNS * 1000 / RATE))
run herald_sms_paced   http://127.0.0.1:$PORT_HERALD  sms "$PACED_CONNS" $((PACED_CONNS * 1000 / RATE))

# Durability check: every acknowledged request is in the database (SMS 1 row, failover 2 rows).
acked=$(awk -v a="$(val herald_sms accepted)" -v b="$(val herald_failover accepted)" \
            -v c="$(val herald_sms_paced accepted)" 'BEGIN{printf "%d", a + 2*b + c}')
stored=$(messages)
echo "durability: acknowledged message rows $acked, stored $stored" | tee -a "$OUT/env.txt"
[ "$stored" -ge "$acked" ] || { echo "LOST ACKNOWLEDGED MESSAGES" >&2; exit 1; }

# ---- kannel (its own harness, same wrk settings)
for store in none file; do
  if [ -x "$KANNEL" ] || [ -f "$KANNEL" ]; then
    STORE=$store DLR_MASK=0 DURATION=$DURATION CONNS=$CONNS THREADS=1 RUNS_DIR="$OUT/kannel" \
      LABEL=$store timeout $((DURATION + 300)) bash "$KANNEL" > "$OUT/kannel_$store.log" 2>&1 || true
    f=$(ls -d "$OUT"/kannel/*store_$store* 2>/dev/null | head -1)/result.json
    if [ -f "$f" ]; then
      python3 - "$f" "$store" > "$OUT/kannel_$store.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["http"]
print(f"HB_RESULT rps={r['accept_per_s']} lat_p50_ms={r['latency_ms']['p50']} lat_p99_ms={r['latency_ms']['p99']} accepted={r['accepted_0']}")
PY
      sed "s/^/kannel_$store: /" "$OUT/kannel_$store.txt"
    fi
  fi
done
echo "loadavg after: $(cat /proc/loadavg)" >> "$OUT/env.txt"

python3 - "$OUT" > "$OUT/table.md" <<'PY'
import os, re, sys
out = sys.argv[1]
def get(name):
    p = os.path.join(out, name + ".txt")
    if not os.path.exists(p): return {}
    m = re.search(r"HB_RESULT (.*)", open(p).read())
    return dict(kv.split("=") for kv in m.group(1).split()) if m else {}
rows = [("ceiling (nginx constant 202)", "ceiling"), ("Herald SMS, durable", "herald_sms"),
        ("Herald RCS->SMS failover, durable", "herald_failover"),
        ("Kannel sendsms, store=none", "kannel_none"), ("Kannel sendsms, store=file", "kannel_file"),
        ("ceiling, paced", "ceiling_paced"), ("Herald SMS, paced", "herald_sms_paced")]
print("| run | accepted/s | p50 ms | p99 ms |\n|---|---:|---:|---:|")
r = {}
for label, key in rows:
    d = get(key); r[key] = d
    if d: print(f"| {label} | {float(d['rps']):,.0f} | {d['lat_p50_ms']} | {d['lat_p99_ms']} |")
def ratio(a, b):
    try: return f"{float(r[a]['rps']) / float(r[b]['rps']):.2f}"
    except Exception: return "n/a"
print()
print(f"- Herald SMS / ceiling: {ratio('herald_sms', 'ceiling')}")
print(f"- Herald SMS / Kannel store=none: {ratio('herald_sms', 'kannel_none')}")
print(f"- Herald SMS / Kannel store=file: {ratio('herald_sms', 'kannel_file')}")
print(f"- Herald RCS->SMS / Kannel store=none: {ratio('herald_failover', 'kannel_none')}")
PY
cat "$OUT/table.md"
echo "results in $OUT"
