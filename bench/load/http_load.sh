#!/usr/bin/env bash
# Whole-server HTTP load on loopback, bounded in time: starts `nightjar serve` on a free
# port with a fresh data directory, drives it with wrk, prints requests/s and latency, and
# the server's resident memory. Usage: bench/load/http_load.sh path/to/nightjar [seconds]
set -euo pipefail
bin=${1:?path to nightjar}
seconds=${2:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$(mktemp -d /tmp/nj-load-XXXXXX)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT

"$bin" serve --data "$data" --http-port 0 --rtsp-port 0 --mqtt-port 0 --web-root "$root/web/dist" --log-level warn &
pid=$!
for _ in $(seq 100); do [[ -f $data/ports.json ]] && break; sleep 0.05; done
port=$(sed -E 's/.*"http": ([0-9]+).*/\1/' "$data/ports.json")
url=http://127.0.0.1:$port

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date: $(date -u +%Y-%m-%d)"
for path in /healthz /metrics /; do
  echo "== GET $path, wrk -t1 -c50 -d${seconds}s (server: $(nproc) event loops)"
  wrk -t1 -c50 -d"${seconds}s" --latency "$url$path" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx'
done
echo "server RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
