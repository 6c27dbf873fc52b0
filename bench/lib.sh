# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# What the bench scripts share (accept_bench.sh, e2e_bench.sh, smpp_bench.sh, timers_bench.sh):
# logging, option checks, the Release build, the environment lines of env.txt, processes
# started, remembered and stopped by PID, bounded waits, the counting sink, Kannel with a fake
# SMS centre, and percentiles. Sourced, never run:
#
#   ROOT=$(cd "$(dirname "$0")/.." && pwd)
#   . "$ROOT/bench/lib.sh"
#
# Sourcing only defines functions and a few variables (BENCH_NAME, HZ, PIDS, PNAMES); a script
# installs the EXIT/INT/TERM traps itself with `trap_cleanup`. Functions use the script's
# globals where the scripts agree on them: ROOT, BUILD_DIR, OUT, HERALD, HERALD_NOTE, LOADGEN,
# TRIVIAL, PORT_SINK.

BENCH_NAME=$(basename "$0" .sh)

# ------------------------------------------------------------------------------ logging, options
log() { echo "[$(date +%T)] $*" >&2; }
die() { log "$BENCH_NAME: $*"; exit 1; }

require_positive() {  # VAR...: each must hold a positive integer
  local v
  for v in "$@"; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive integer"
  done
}

make_out() {  # creates $OUT, makes it absolute, says where the results go
  mkdir -p "$OUT" || die "cannot create $OUT"
  OUT=$(cd "$OUT" && pwd)
  log "results in $OUT"
}

# ------------------------------------------------------------------------------ processes
# Every process a script starts is remembered by PID and stopped by PID, newest first, when the
# script exits (trap_cleanup) or calls `cleanup`.
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
forget() {  # pid: stopped already (cleanup passes it over)
  local i
  for ((i = 0; i < ${#PIDS[@]}; i++)); do [ "${PIDS[$i]}" = "$1" ] && PIDS[$i]=0; done
}
cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    [ "${PIDS[$i]}" != 0 ] && stop_pid "${PIDS[$i]}" "${PNAMES[$i]}"
  done
  PIDS=(); PNAMES=()
}
trap_cleanup() {
  trap cleanup EXIT
  trap 'log "interrupted"; exit 130' INT TERM
}

# ------------------------------------------------------------------------------ waits, clocks
# Listening check with ss: never connect to a port to probe it (Kannel's fake-SMSC port takes
# any connection as an SMS centre).
port_busy() { ss -Hltn "sport = :$1" | grep -q .; }
ports_free() {  # timeout_s ports...: waits (bounded) for other users of the ports to finish
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
now_ms() { date +%s%3N; }

# ------------------------------------------------------------------------------ build
configure_release() {  # [cmake args...]: configures the Release build with the bench tools in BUILD_DIR
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER=clang++-19 -DHERALD_BUILD_BENCHMARKS=ON "$@"
}
# Configures (tests off) and builds herald_loadgen, herald_trivial_server and herald (-j2),
# logging to $OUT/build.log; BUILD_FAILED=1 when Herald could not be built.
build_release() {
  log "building Release (herald, herald_loadgen, herald_trivial_server) in $BUILD_DIR"
  if configure_release -DHERALD_BUILD_TESTS=OFF > "$OUT/build.log" 2>&1; then
    cmake --build "$BUILD_DIR" -j2 --target herald_loadgen herald_trivial_server >> "$OUT/build.log" 2>&1 \
      || log "WARNING: building the bench tools failed (see $OUT/build.log)"
    cmake --build "$BUILD_DIR" -j2 --target herald >> "$OUT/build.log" 2>&1 || BUILD_FAILED=1
  else
    BUILD_FAILED=1
  fi
}
# The two bench tools compiled on their own (header-only Asio/Beast) into $OUT/bin, for when the
# project does not configure or build: sets LOADGEN and TRIVIAL.
compile_bench_tools() {
  log "compiling the bench tools standalone into $OUT/bin"
  mkdir -p "$OUT/bin"
  LOADGEN=$OUT/bin/herald_loadgen TRIVIAL=$OUT/bin/herald_trivial_server
  clang++-19 -O2 -DNDEBUG -std=c++20 -o "$LOADGEN" "$ROOT/bench/loadgen.cpp" -pthread \
    && clang++-19 -O2 -DNDEBUG -std=c++20 -o "$TRIVIAL" "$ROOT/bench/trivial_server.cpp" -pthread \
    || die "cannot compile the bench tools"
}
# After a failed build: the current tree does not build. An older binary may still be there:
# measure it only when asked to (ALLOW_STALE=1), and say so in HERALD_NOTE; else HERALD=.
stale_herald() {
  if [ "${ALLOW_STALE:-0}" = 1 ] && [ -x "$HERALD" ]; then
    HERALD_NOTE="STALE HERALD BINARY: the current tree failed to build; measured $HERALD of $(date -r "$HERALD" -Is)"
    log "WARNING: $HERALD_NOTE"
  else
    log "WARNING: building Herald failed (see $OUT/build.log): Herald rows will be pending (ALLOW_STALE=1 uses an existing binary)"
    HERALD=
  fi
}
# Succeeds and prints "build type '…', sanitizers '…'" when BINARY's build (the CMakeCache.txt
# three levels up) is not a Release build without sanitizers.
not_release_build() {  # binary
  local cache btype sanit
  cache=$(dirname "$(dirname "$(dirname "$1")")")/CMakeCache.txt
  btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache" 2>/dev/null)
  sanit=$(sed -n 's/^HERALD_SANITIZE:[A-Z]*=//p' "$cache" 2>/dev/null)
  [ "$btype" != Release ] || [ -n "$sanit" ] || return 1
  echo "build type '${btype:-unknown}', sanitizers '${sanit}'"
}
# HERALD must be an executable (else HERALD= and the Herald rows are pending); a build that is
# not Release is noted in HERALD_NOTE.
check_herald() {
  local what
  if [ -n "$HERALD" ] && [ -x "$HERALD" ]; then
    if what=$(not_release_build "$HERALD"); then
      HERALD_NOTE="${HERALD_NOTE:+$HERALD_NOTE; }NOT A RELEASE BUILD ($what): smoke test only, figures not valid"
      log "WARNING: $HERALD_NOTE"
    fi
  else
    log "WARNING: no Herald binary: Herald rows will be pending"
    HERALD=
  fi
}

# ------------------------------------------------------------------------------ environment
# Lines of env.txt, in the order the scripts print them.
env_machine() {  # [mem]: date, host, (memory,) OS, compiler
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), nproc $(nproc), $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  [ "${1:-}" = mem ] && echo "mem: $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  grep PRETTY_NAME /etc/os-release
  echo "compiler: $(clang++-19 --version | head -1)"
}
env_kannel() { echo "kannel: $(dpkg-query -W -f='${Version}' kannel 2>/dev/null)${1:-}"; }  # [suffix]
env_data_fs() { echo "data filesystem: $(df -T "$OUT" | awk 'NR==2{print $1, $2}')"; }
env_herald() { echo "herald: ${HERALD:-none}${HERALD:+ (binary of $(date -r "$HERALD" -Is))} ${HERALD_NOTE}"; }
env_source() {
  local rev
  rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' + uncommitted changes')"
  case "${HERALD:-}" in
    "$ROOT"/*|"") echo "herald source: $rev" ;;
    *) echo "herald source: not this checkout (HERALD= names a binary built elsewhere); the script's checkout is $rev" ;;
  esac
}
# The machine's state before and after a batch: load, the hypervisor's steal ticks, and the
# disk's fsync latency (200 writes of 4 KiB, each followed by fdatasync, in $OUT). Herald's
# closed-loop figures wait on its group commits, so a slow disk shows up in them; a busy host
# CPU does too, and neither probe sees that (docs/benchmarks.md, "Quiet hour"): compare with a
# reference run in the same batch.
env_machine_state() {  # before|after
  echo "loadavg $1: $(cat /proc/loadavg)"
  echo "cpu steal ticks $1: $(awk '/^cpu /{print $9}' /proc/stat)"
  echo "fdatasync of 4 KiB $1: $(python3 - "$OUT" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], ".fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
block, times = b"x" * 4096, []
try:
    for i in range(200):
        os.pwrite(fd, block, (i % 16) * 4096)
        t0 = time.perf_counter()
        os.fdatasync(fd)
        times.append((time.perf_counter() - t0) * 1000)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
print("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms" % (times[100], times[180], times[198]))
PY
)"
}

# ------------------------------------------------------------------------------ runs
# The application's Basic credentials (base64 of api_key:api_secret) from `herald app create`'s JSON.
basic_auth_of() {  # app.json
  python3 -c 'import json,sys,base64; a=json.load(open(sys.argv[1])); print(base64.b64encode((a["api_key"]+":"+a["api_secret"]).encode()).decode())' "$1"
}
ok_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$OUT/$1.json" 2>/dev/null || echo 0; }
# The counting sink (herald_trivial_server --count-statuses) on PORT_SINK -> SINK_PID.
start_sink() {  # name
  ports_free 30 "$PORT_SINK" || return 1
  "$TRIVIAL" --listen 127.0.0.1:$PORT_SINK --io-threads 1 --count-statuses > "$OUT/$1.sink.out" 2>&1 &
  SINK_PID=$!; remember $SINK_PID sink
  wait_for 10 $SINK_PID "sink" grep -qs listening "$OUT/$1.sink.out"
}
# count p50 p99 max of a file of sorted numbers, one a line (nearest rank below); EMPTY
# ["0 - - -"] for an empty file.
percentiles() {  # file [empty]
  awk -v empty="${2-0 - - -}" '{ a[NR] = $1 } END { if (NR == 0) { print empty; exit }
    printf "%d %d %d %d\n", NR, a[int((NR - 1) * 0.50) + 1], a[int((NR - 1) * 0.99) + 1], a[NR] }' "$1"
}

# ------------------------------------------------------------------------------ kannel
# Kannel 1.4.5 as ../shared/peers/kannel/run.sh runs it: bearerbox, smsbox with sendsms on 13013
# (user bench/benchpw), admin status on 13000, all on 127.0.0.1, log level warning.
status_txt() { curl -s --max-time 5 http://127.0.0.1:13000/status.txt; }
smsc_online() { status_txt | grep -q 'FAKE:13010 (online'; }
smsbox_linked() { status_txt | grep -q 'smsbox:.*on-line'; }
sendsms_up() { [ "$(curl -s "$@" -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:13013/cgi-bin/sendsms)" = 403 ]; }  # [curl args]
# Kannel's fake SMSC on 13010 (fakesmsc connects to it).
KANNEL_FAKE_SMSC='group = smsc
smsc = fake
smsc-id = fake1
host = 127.0.0.1
our-host = 127.0.0.1
port = 13010
connect-allow-ip = 127.0.0.1'
# Prints the kannel.conf of DIR: store none (RAM only) or file (no fsync), and the smsc group
# [KANNEL_FAKE_SMSC].
kannel_conf() {  # dir store(none|file) [smsc group]
  local dir=$1 store_lines="# store: none -- messages live in RAM only" smsc=${3:-$KANNEL_FAKE_SMSC}
  [ "$2" = file ] && store_lines="store-type = file
store-location = \"$dir/kannel.store\"
store-dump-freq = 10"
  cat <<EOF
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
$store_lines

$smsc

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
}
# Starts bearerbox, fakesmsc (receive-only) and smsbox on DIR/kannel.conf (a fake-SMSC one)
# and waits (bounded) until sendsms answers: KANNEL_BB, KANNEL_FS, KANNEL_SB are their PIDs.
# Never connect to the fake-SMSC port (13010) ourselves.
start_kannel_fake() {  # dir
  local dir=$1
  (cd "$dir" && exec /usr/sbin/bearerbox -v 3 kannel.conf > bearerbox.stdout 2>&1) &
  KANNEL_BB=$!; remember $KANNEL_BB bearerbox
  wait_for 20 $KANNEL_BB "bearerbox :13010" port_busy 13010 || return
  wait_for 20 $KANNEL_BB "bearerbox :13001" port_busy 13001 || return
  /usr/lib/kannel/test/fakesmsc -H 127.0.0.1 -r 13010 -i 0 -m 0 -v 1 "100 200 text unused" \
    > "$dir/fakesmsc.log" 2>&1 &
  KANNEL_FS=$!; remember $KANNEL_FS fakesmsc
  (cd "$dir" && exec /usr/sbin/smsbox -v 3 kannel.conf > smsbox.stdout 2>&1) &
  KANNEL_SB=$!; remember $KANNEL_SB smsbox
  wait_for 20 $KANNEL_BB "fake SMSC online" smsc_online || return
  wait_for 20 $KANNEL_SB "smsbox linked" smsbox_linked || return
  wait_for 20 $KANNEL_SB "sendsms answering" sendsms_up || return
  sleep 1
}
