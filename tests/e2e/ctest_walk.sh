#!/usr/bin/env bash
# The e2e walk as a CTest test: starts `surge serve` on a free port against the test stores
# ($SURGE_TEST_ENV), walks it with walk.sh, and stops it.
#
#   tests/e2e/ctest_walk.sh SURGE_BINARY
set -euo pipefail
surge=${1:?usage: ctest_walk.sh SURGE_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
set -a
. "${SURGE_TEST_ENV:?SURGE_TEST_ENV is not set}"
set +a
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/surge-walk-XXXXXX.log)
"$surge" serve --listen 127.0.0.1 --port "$port" --workers 2 --instance "walk-$$" \
  --dev-return-code --code-per-ip-hour 1000000 --code-per-phone-hour 1000 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 200); do
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/health" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
"$here/walk.sh" "http://127.0.0.1:$port" --log "$log"
