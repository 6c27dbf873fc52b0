#!/usr/bin/env bash
# Interleaved A/B of the SMPP path end to end (bench/smpp_bench.sh without Kannel): PAIRS times
# A then B, each a whole smpp_bench.sh run of N messages, and per pair the ratio B/A of the
# end-to-end SMS/s and of Herald's CPU per message, with their medians. For changes of a few
# percent on a shared, noisy machine (docs/benchmarks.md), as bench/ab_accepts.sh is for accepts.
#
#   A_HERALD=/tmp/old/herald B_HERALD=build/release/cmd/herald/herald bench/ab_smpp.sh
#
# Environment (defaults in brackets): PAIRS [4]  N [20000] messages per run
#   A_HERALD / B_HERALD [BUILD_DIR/cmd/herald/herald]  BUILD_DIR [build/release] (must be built:
#   bench/smpp_bench.sh builds it)  OUT [mktemp -d]; other smpp_bench.sh settings (CONNS,
#   WINDOW, IO_THREADS…) pass through to both sides.
# Each run is bounded by smpp_bench.sh's own waits and by `timeout` (TERM, so its cleanup trap
# stops what it started); only 127.0.0.1.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
PAIRS=${PAIRS:-4}
N=${N:-20000}
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
A_HERALD=${A_HERALD:-$BUILD_DIR/cmd/herald/herald}
B_HERALD=${B_HERALD:-$BUILD_DIR/cmd/herald/herald}
OUT=${OUT:-$(mktemp -d -t herald-ab-smpp-XXXXXX)}
require_positive PAIRS N
for f in "$A_HERALD" "$B_HERALD"; do [ -x "$f" ] || die "$f is not built"; done
make_out

run_side() {  # side(A|B) pair -> RATE= end-to-end SMS/s, CPU_US= Herald CPU µs per message
  local side=$1 pair=$2 bin dir
  if [ "$side" = A ]; then bin=$A_HERALD; else bin=$B_HERALD; fi
  dir=$OUT/$side-$pair
  OUT=$dir BUILD=0 KANNEL=0 REPS=1 N=$N HERALD=$bin timeout -k 30 900 \
    "$ROOT/bench/smpp_bench.sh" > "$dir.log" 2>&1
  read -r RATE CPU_US < <(python3 - "$dir" "$N" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
try:
    run = json.load(open(f"{d}/summary.json"))["herald-r1"]
    cpu = json.load(open(f"{d}/herald-r1.cpu.json"))
    print(round(run["e2e_per_s"]) if run["complete"] else 0,
          round(cpu["server_ticks"] * 1e6 / cpu["hz"] / n))
except (OSError, KeyError, ValueError):
    print(0, 0)
PY
)
}

log "A: $A_HERALD; B: $B_HERALD; $PAIRS pairs of $N SMS"
rates=() cpus=()
for pair in $(seq 1 "$PAIRS"); do
  run_side A "$pair"; a=$RATE ca=$CPU_US
  run_side B "$pair"; b=$RATE cb=$CPU_US
  r=$(python3 -c "print(f'{$b / $a:.3f}' if $a > 0 and $b > 0 else 'nan')")
  c=$(python3 -c "print(f'{$cb / $ca:.3f}' if $ca > 0 and $cb > 0 else 'nan')")
  rates+=("$r") cpus+=("$c")
  echo "pair $pair: A $a/s ${ca} µs/SMS  B $b/s ${cb} µs/SMS  B/A $r, CPU B/A $c" | tee -a "$OUT/pairs.txt"
done
python3 - "${rates[*]}" "${cpus[*]}" <<'PY' | tee -a "$OUT/pairs.txt"
import statistics, sys
for what, arg in (("end to end", sys.argv[1]), ("CPU per SMS", sys.argv[2])):
    r = [float(x) for x in arg.split() if x != 'nan']
    print(f"median B/A {what} {statistics.median(r):.3f} over {len(r)} pairs (min {min(r):.3f}, max {max(r):.3f})" if r else f"{what}: no valid pair")
PY
