#!/usr/bin/env bash
# Durable timers and escalation stop latency (issue 4, item 9; decision 0006).
#
#   bench/timers_bench.sh                  # ~6 min: prints $OUT/table.md
#   PENDING=100000 bench/timers_bench.sh   # a quick check
#   BUILD=0 HERALD=/path/to/herald bench/timers_bench.sh
#
# Phases (one herald, release build, SQLite synchronous=FULL, on 127.0.0.1):
#  1. memory: RSS of an idle herald with no pending timer (reference), then with PENDING
#     dispatch expiries on disk (1,000,000 by default) due far in the future -> RAM per pending
#     timer (the engine holds at most max_held_jobs) and database bytes per pending timer.
#  2. due together: the PENDING expiries all fall due at the same instant T (written with
#     run_at = T while the server is stopped, as a crash would leave them); lateness of each =
#     the `expired` history entry's time - its due time: p50 / p99 / max, and the drain rate.
#  3. spread under load: SPREAD expiries due at SPREAD_RATE per second (while the PENDING ones
#     of phase 1 still wait on disk): lateness p50 / p99 / max (target: p99 <= 100 ms).
#  4. escalations: ESCALATIONS escalations (person 1: Messenger, delivered, never read, long
#     expiry; person 2: SMS), then one acknowledgement each (ACK_CONNS concurrent): time from
#     the acknowledgement request to the last send stopping = the acknowledgement's response
#     (it returns after the commit that skips every further step): p50 / p99 / max; then
#     checks that no step after the acknowledged one was ever submitted.
#
# Environment: PENDING [1000000]  SPREAD [20000]  SPREAD_RATE [1000]  ESCALATIONS [10000]
#   ACK_CONNS [64]  BUILD [1]  BUILD_DIR [build/release]  HERALD  OUT [mktemp -d]
# Every process is started here and stopped by PID (trap EXIT); every wait is bounded.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
PENDING=${PENDING:-1000000}
SPREAD=${SPREAD:-20000}
SPREAD_RATE=${SPREAD_RATE:-1000}
ESCALATIONS=${ESCALATIONS:-10000}
ACK_CONNS=${ACK_CONNS:-64}
BUILD=${BUILD:-1}
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
HERALD=${HERALD:-$BUILD_DIR/cmd/herald/herald}
OUT=${OUT:-$(mktemp -d /tmp/herald-timers.XXXXXX)}
mkdir -p "$OUT"
DATA="$OUT/data"
DB="$DATA/herald.db"
PORT=${PORT:-18931}
ADMIN_TOKEN="bench-admin-token-0123456789"
PID=""

# Its own log lines, and its one herald (PID) killed at exit (not bench/lib.sh's).
log() { printf '[timers_bench] %s\n' "$*" >&2; }
kill_herald() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; wait 2>/dev/null; }
trap kill_herald EXIT

if [ "$BUILD" = 1 ]; then
  configure_release >/dev/null
  cmake --build "$BUILD_DIR" --target herald -j2 >/dev/null || { log "build failed"; exit 1; }
fi
command -v sqlite3 >/dev/null || { log "sqlite3 is required (apt-get install sqlite3)"; exit 1; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
anon_kb() { awk '/^RssAnon/ {print $2}' "/proc/$PID/status"; }
sql() { sqlite3 -batch -noheader -cmd '.timeout 10000' "$DB" "$@"; }

cat > "$OUT/herald.toml" <<EOF
admin_token = "$ADMIN_TOKEN"
[simulator]
delivered_after_ms = 20
read_after_ms = 40
rules = [
  { channel = "messenger", to = "4477006*", events = [ { status = "delivered", after_ms = 20 } ] },
]
EOF

start() {
  "$HERALD" serve --config "$OUT/herald.toml" --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
    --log-level warn > "$OUT/herald.$1.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 600); do
    grep -q '^herald: listening' "$OUT/herald.$1.log" && return 0
    kill -0 "$PID" 2>/dev/null || { log "herald exited: $(tail -3 "$OUT/herald.$1.log")"; exit 1; }
    sleep 0.1
  done
  log "herald did not start"; exit 1
}
stop() { kill -TERM "$PID" 2>/dev/null; for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done; kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""; }
# Waits (bounded by $2 s) until no `expiry` job is pending.
drain() {
  local deadline=$(( $(date +%s) + $2 )) left
  while :; do
    left=$(sql "SELECT count(*) FROM job WHERE kind = 'expiry' AND state = 'pending' AND run_at_ms <= $1")
    [ "$left" = 0 ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && { log "drain: $left expiries still pending"; return 1; }
    sleep 0.5
  done
}

# Writes N one-item dispatches (submitted, condition delivered, no status URL) with their
# expiry jobs at run_at = $2 + (i * $3 / 1000) ms, ids prefixed $4.
seed() {
  local n=$1 at=$2 step_us=$3 tag=$4 NOW
  NOW=$(now_ms)  # rows are written now (as the engine writes them), due at `at`
  sql <<EOF
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
INSERT INTO workflow (id, application_id, items_total, has_failover, state, created_at_ms,
  updated_at_ms, kind, current_item, plan_json, outcome_json)
SELECT '$tag-w' || i, '$APP', 1, 1, 'active', $NOW, $NOW, 'dispatch', 1, '{}', '{}' FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
INSERT INTO message (uuid, workflow_id, application_id, item_number, channel, message_type,
  to_addr, from_addr, state, payload_json, created_at_ms, updated_at_ms, webhook_version,
  condition_status, expires_at_ms, round)
SELECT '$tag-m' || i, '$tag-w' || i, '$APP', 1, 'sms', 'text', '447700900001', 'Herald',
  'submitted', '{"text":"x"}', $NOW, $NOW, 'v0.1', 'delivered', $at + (i * $step_us) / 1000, 1 FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
INSERT INTO job (kind, ref, application_id, payload_json, state, attempt, run_at_ms, last_error,
  created_at_ms, updated_at_ms)
SELECT 'expiry', '$tag-m' || i, '$APP', '{}', 'pending', 0, $at + (i * $step_us) / 1000, '', $NOW, $NOW FROM s;
COMMIT;
EOF
}

# Lateness of the expiries of tag $1: the `expired` entry's at_ms - the message's expires_at_ms.
# Prints: count p50 p99 max.
lateness() {
  sql "SELECT e.at_ms - m.expires_at_ms FROM message_event e JOIN message m ON m.uuid = e.message_uuid
        WHERE e.status = 'expired' AND m.uuid LIKE '$1-m%' ORDER BY 1" > "$OUT/lateness-$1.txt"
  percentiles "$OUT/lateness-$1.txt"
}

# ---------------------------------------------------------------- phase 1: memory
log "out: $OUT"
mkdir -p "$DATA"
APP=$("$HERALD" app create --name bench --data-dir "$DATA" --private-key-path "$OUT/bench.key" |
  sed -n 's/.*"application_id" *: *"\([^"]*\)".*/\1/p')
[ -n "$APP" ] || { log "app create failed"; exit 1; }
start idle; sleep 3; RSS_IDLE=$(rss_kb); stop
DB_IDLE=$(( $(stat -c %s "$DB") + $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) ))
FAR=$(( $(now_ms) + 86400000 ))
TENTH=$(( PENDING / 10 ))
# Two sizes: memory that grows with the pending timers would show as a difference between them
# (SQLite's page cache, 64 MiB, and its mmap window, 256 MiB, are capped; the engine holds at
# most max_held_jobs).
log "seeding $TENTH pending expiries due in 24 h"
seed "$TENTH" "$FAR" 0 far
start tenth; sleep 5; RSS_TENTH=$(rss_kb); ANON_TENTH=$(anon_kb); stop
log "seeding $(( PENDING - TENTH )) more"
t0=$(now_ms); seed "$(( PENDING - TENTH ))" "$FAR" 0 farb; SEED_MS=$(( $(now_ms) - t0 ))
sql "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
DB_FULL=$(stat -c %s "$DB")
t0=$(now_ms); start pending; START_MS=$(( $(now_ms) - t0 )); sleep 5
RSS_PENDING=$(rss_kb); ANON_PENDING=$(anon_kb); stop
log "RSS idle ${RSS_IDLE} kB; $TENTH pending ${RSS_TENTH} kB (anon ${ANON_TENTH}); $PENDING pending ${RSS_PENDING} kB (anon ${ANON_PENDING}); db +$(( DB_FULL - DB_IDLE )) bytes"

# ---------------------------------------------------------------- phase 2: due together
T=$(( $(now_ms) + 20000 ))
log "moving the $PENDING expiries to fall due together at T (in 20 s)"
sql "UPDATE job SET run_at_ms = $T WHERE kind = 'expiry'; UPDATE message SET expires_at_ms = $T;"
start together
sleep $(( ( T - $(now_ms) ) / 1000 + 1 ))
drain "$T" 1800 || true
DRAIN_END=$(sql "SELECT max(at_ms) FROM message_event WHERE status = 'expired'")
read -r N2 P50_2 P99_2 MAX_2 <<<"$(lateness far)"
read -r N2B _ _ MAX_2B <<<"$(lateness farb)"
N2=$(( N2 + N2B ))
# Percentiles over both groups: they fell due together, so take them from the combined file.
cat "$OUT/lateness-far.txt" "$OUT/lateness-farb.txt" | sort -n > "$OUT/lateness-together.txt"
read -r _ P50_2 P99_2 MAX_2 <<<"$(percentiles "$OUT/lateness-together.txt" "0 0 0 0")"
RATE_2=$(( N2 * 1000 / ( DRAIN_END - T + 1 ) ))
log "due together: $N2 fired, lateness p50 $P50_2 p99 $P99_2 max $MAX_2 ms, $RATE_2 expiries/s"

# ---------------------------------------------------------------- phase 3: spread, under load
stop
seed "$PENDING" "$FAR" 0 spreadfar   # a full disk of far-future timers again
# The first spread expiry falls due 10 s after the (slow) seeding above, not before it ends.
S0=$(( $(now_ms) + 10000 ))
STEP_US=$(( 1000000 / SPREAD_RATE ))
seed "$SPREAD" "$S0" "$STEP_US" spread
start spread
SPREAD_END=$(( S0 + SPREAD * 1000 / SPREAD_RATE ))
sleep $(( ( SPREAD_END - $(now_ms) ) / 1000 + 2 ))
drain "$SPREAD_END" 600 || true
read -r N3 P50_3 P99_3 MAX_3 <<<"$(lateness spread)"
RSS_SPREAD=$(rss_kb)
log "spread at $SPREAD_RATE/s: $N3 fired, lateness p50 $P50_3 p99 $P99_3 max $MAX_3 ms (RSS ${RSS_SPREAD} kB)"
stop

# ---------------------------------------------------------------- phase 4: escalations
sql "DELETE FROM job; DELETE FROM message_event; DELETE FROM message; DELETE FROM workflow;" >/dev/null
start escalations
node "$ROOT/bench/escalation_ack.mjs" "http://127.0.0.1:$PORT" "$ADMIN_TOKEN" "$ESCALATIONS" "$ACK_CONNS" \
  > "$OUT/escalations.json" || { log "escalation phase failed"; exit 1; }
stop
read -r ACK_P50 ACK_P99 ACK_MAX LATE_SENDS <<<"$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
  console.log(r.ack_ms.p50, r.ack_ms.p99, r.ack_ms.max, r.sends_after_ack);' "$OUT/escalations.json")"

MACHINE="$(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
cat > "$OUT/table.md" <<EOF
Machine: $MACHINE; herald release build, SQLite synchronous=FULL. Command: \`bench/timers_bench.sh\` (PENDING=$PENDING).

| measure | figure |
|---|---|
| RSS, idle server, no pending timer (reference) | $(( RSS_IDLE / 1024 )) MiB |
| RSS (anonymous) with $TENTH pending expiries (24 h away) | $(( RSS_TENTH / 1024 )) MiB ($(( ANON_TENTH / 1024 )) MiB) |
| RSS (anonymous) with $PENDING pending expiries | $(( RSS_PENDING / 1024 )) MiB ($(( ANON_PENDING / 1024 )) MiB) |
| RAM per pending timer, between the two sizes | $(awk -v a="$RSS_PENDING" -v b="$RSS_TENTH" -v n="$(( PENDING - TENTH ))" 'BEGIN { printf "%.1f bytes", (a - b) * 1024 / n }') (the engine holds at most max_held_jobs; SQLite's cache and mmap are capped) |
| database per pending timer (workflow + message + job rows and indexes) | $(( (DB_FULL - DB_IDLE) / PENDING )) bytes |
| start-up with $PENDING pending | $START_MS ms |
| $N2 expiries due at the same instant: lateness p50 / p99 / max | $P50_2 / $P99_2 / $MAX_2 ms (drained at $RATE_2 expiries/s) |
| $N3 expiries due at $SPREAD_RATE/s, $PENDING more on disk: lateness p50 / p99 / max | $P50_3 / $P99_3 / $MAX_3 ms |
| $ESCALATIONS escalations, acknowledgement → last send stopped: p50 / p99 / max | $ACK_P50 / $ACK_P99 / $ACK_MAX ms |
| steps submitted after their escalation's acknowledgement | $LATE_SENDS |
EOF
cat "$OUT/table.md"
[ "$LATE_SENDS" = 0 ] || exit 1
