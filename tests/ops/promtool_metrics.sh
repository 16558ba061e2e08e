#!/usr/bin/env bash
# /metrics as Prometheus's own tool reads it: starts `surge serve` on the fixture stores, sends a
# few requests so that counters, gauges and histograms all have series, and runs
# `promtool check metrics` on the scrape (format and naming conventions: help text, units,
# _total counters), and checks that every metric deploy/grafana/surge.json queries is exported.
# /metrics is scraped from the admin listener, and the public listener must answer it 404.
#   tests/ops/promtool_metrics.sh SURGE_BINARY   (SURGE_TEST_ENV names the stores' env file)
set -euo pipefail
bin=$1
set -a
# shellcheck source=/dev/null
source "${SURGE_TEST_ENV:?names the env file of the stores fixture}"
set +a
command -v promtool >/dev/null || { echo "promtool missing (scripts/install-deps installs prometheus)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin_port=$(free_port)
log=$(mktemp)
"$bin" serve --listen 127.0.0.1 --port "$port" --admin-listen "127.0.0.1:$admin_port" --workers 1 \
  --log-level warn >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log" "$log.metrics"' EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
for path in /shop/1 /shop/2 /shop/999999999 /shop-type/list /blog/hot?current=1 /nope; do
  curl -s -o /dev/null "http://127.0.0.1:$port$path" || true
done
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/voucher-order/seckill/2" || true
public=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
[[ $public == 404 ]] || { echo "the public listener answered /metrics with $public, not 404" >&2; exit 1; }
metrics=$(curl -sf "http://127.0.0.1:$admin_port/metrics")
printf '%s\n' "$metrics" >"$log.metrics"
echo "scraped $(grep -cv '^[#]' "$log.metrics") samples"
promtool check metrics <"$log.metrics"
echo "promtool: /metrics passes"
# Every metric the Grafana dashboard queries is a family of the scrape (a renamed metric would
# leave its panel empty without any other test noticing).
grafana="$(dirname "$0")/../../deploy/grafana/surge.json"
missing=0
for name in $(grep -o 'surge_[a-z_]*' "$grafana" | sort -u); do
  family=$name
  grep -q "^# TYPE $family " "$log.metrics" || family=${name%_bucket}
  grep -q "^# TYPE $family " "$log.metrics" || { echo "deploy/grafana/surge.json queries $name, which /metrics does not export" >&2; missing=1; }
done
((missing == 0))
echo "every metric the Grafana dashboard queries is exported"
