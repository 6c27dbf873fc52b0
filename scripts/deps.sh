#!/usr/bin/env bash
# Installs what Herald needs to build, run and test, on Debian 12, as root. Idempotent and quick
# when everything is already there (no apt-get update unless a package is missing).
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES=(
  clang-19 libclang-rt-19-dev lld-19 cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libexpected-dev libssl-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev libcli11-dev
  libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev curl ca-certificates
)
# Never libboost-all-dev / libboost-dev: they pull Boost 1.74, which conflicts with 1.81.

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Test tools from npm (the official Vonage SDK). Re-run npm only when the lock file changed.
if [ "${HERALD_SKIP_NPM:-0}" != 1 ]; then
  stamp="$HERE/tests/node_modules/.herald-lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$HERE/tests/package-lock.json" "$stamp"; then
    echo "deps: npm ci in tests/" >&2
    (cd "$HERE/tests" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$HERE/tests/package-lock.json" "$stamp"
  fi
fi
