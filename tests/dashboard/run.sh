#!/usr/bin/env bash
# The dashboard in headless Chromium as a CTest test: starts two `surge serve` instances on the
# fixture stores (Redis database 9; public and admin listeners on free ports) and runs
# dashboard_test.mjs against them (the page from the first; the second buys too, shows on the
# page, then stops).
#   tests/dashboard/run.sh SURGE_BINARY [SCREENSHOT.png]   (SURGE_TEST_ENV names the stores' env file)
# The screenshot path may also come from SURGE_DASHBOARD_SCREENSHOT (docs/dashboard.png is made so).
# Exit 77 (skipped) when chromium or the npm driver is missing, saying why.
set -euo pipefail
bin=$1
shot=${2:-${SURGE_DASHBOARD_SCREENSHOT:-}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
set -a
# shellcheck source=/dev/null
source "${SURGE_TEST_ENV:?names the env file of the stores fixture}"
set +a
# A Redis database of its own: the instance table and the sale's queued figures then hold only
# this test's two instances, so it runs beside the other suites (their pub/sub messages, which
# are not per database, only invalidate caches here).
export SURGE_REDIS_DB=9
command -v chromium >/dev/null || { echo "chromium missing (scripts/install-deps installs it)" >&2; exit 77; }
[[ -d $here/node_modules/puppeteer-core ]] || { echo "puppeteer-core missing (tests/dashboard/install)" >&2; exit 77; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log=$(mktemp)
pids=()
# The second instance may have stopped already (the test stops it): no error from kill then.
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait || true; rm -f "$log"' EXIT
# start NAME: runs an instance named NAME; sets public_port, admin_port and pid.
start() {
  public_port=$(free_port)
  admin_port=$(free_port)
  "$bin" serve --listen 127.0.0.1 --port "$public_port" --admin-listen "127.0.0.1:$admin_port" \
    --workers 2 --instance "$1" --dev-return-code --code-per-ip-hour 1000000 --sale-rate 0 \
    --log-level warn >>"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 150); do
    curl -sf -o /dev/null "http://127.0.0.1:$public_port/health" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
}
start "dashboard-$$-a"
a_public=$public_port a_admin=$admin_port
start "dashboard-$$-b"
export DASHBOARD_B_PID=$pid DASHBOARD_B_PUBLIC="http://127.0.0.1:$public_port"
export DASHBOARD_B_ADMIN="http://127.0.0.1:$admin_port"
export DASHBOARD_INSTANCES="dashboard-$$-a dashboard-$$-b"
node "$here/dashboard_test.mjs" "http://127.0.0.1:$a_public" "http://127.0.0.1:$a_admin" $shot
