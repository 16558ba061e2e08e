#!/usr/bin/env bash
# The dashboard in headless Chromium as a CTest test: starts `surge serve` on the fixture stores
# (public and admin listeners on free ports) and runs dashboard_test.mjs against it.
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
command -v chromium >/dev/null || { echo "chromium missing (scripts/install-deps installs it)" >&2; exit 77; }
[[ -d $here/node_modules/puppeteer-core ]] || { echo "puppeteer-core missing (tests/dashboard/install)" >&2; exit 77; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin_port=$(free_port)
log=$(mktemp)
"$bin" serve --listen 127.0.0.1 --port "$port" --admin-listen "127.0.0.1:$admin_port" --workers 2 \
  --instance "dashboard-$$" --dev-return-code --code-per-ip-hour 1000000 --sale-rate 0 \
  --log-level warn >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 150); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
node "$here/dashboard_test.mjs" "http://127.0.0.1:$port" "http://127.0.0.1:$admin_port" $shot
