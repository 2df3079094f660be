#!/usr/bin/env bash
# Waking an idle camera (issue #5): the time from "open live view" (POST /devices/{id}/stream)
# to the stream being live, and the server's own part of it, on loopback with the demo's
# simulated cameras (real nightjar-cam processes over real mosquitto and RTSP).
# Each round wakes a camera, then waits until the server has stopped it for lack of viewers.
# The whole is measured by curl; the server's part (before the RPC goes out, and from the
# stream being published to the answer) by the server itself ("device.stream.woken" in its
# log). The browser's part (first frame drawn) is in web/tests/devices.test.mjs.
# Usage: bench/load/wake_latency.sh BUILD_BIN_DIR [rounds=20]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
rounds=${2:-20}
work=$(mktemp -d /tmp/nj-wake-XXXXXX)
cleanup() {
  kill "${server:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

printf '[devices]\nidle_stream_grace_ms = 300\n' >"$work/nightjar.toml"
"$bin/nightjar" serve --demo --data "$work/data" --config "$work/nightjar.toml" --http-port 0 \
  --rtsp-port 0 --mqtt-port 0 --log-level info >"$work/log" 2>&1 &
server=$!
for _ in $(seq 200); do grep -q 'Demo login' "$work/log" 2>/dev/null && break; sleep 0.05; done
http=$(sed -E 's/.*"http": ([0-9]+).*/\1/' "$work/data/ports.json")
api="http://127.0.0.1:$http/api/v1"
read -r email password < <(sed -nE 's/^Demo login: (\S+) \/ (\S+).*/\1 \2/p' "$work/log")
token=$(curl -s -X POST "$api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | sed -E 's/.*"token": *"([^"]+)".*/\1/')
auth=(-H "Authorization: Bearer $token")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%Y-%m-%d)"

# The demo cameras, once online.
for _ in $(seq 200); do
  [[ $(curl -s "$api/devices" "${auth[@]}" | grep -o '"online": *true' | wc -l) -ge 2 ]] && break
  sleep 0.1
done
ids=$(curl -s "$api/devices" "${auth[@]}" | grep -oE '"id": *"[^"]+"' | sed -E 's/.*"([^"]+)"$/\1/')

: >"$work/totals"
for round in $(seq "$rounds"); do
  for id in $ids; do
    # Idle first: the snapshot answers 404 once the camera stopped pushing.
    for _ in $(seq 100); do
      [[ $(curl -s -o /dev/null -w '%{http_code}' "$api/devices/$id/snapshot.jpg" "${auth[@]}") == 404 ]] && break
      sleep 0.1
    done
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST "$api/devices/$id/stream" "${auth[@]}" >>"$work/totals"
  done
done

stats() {  # n, p50, p90, max of numbers (ms) on stdin
  sort -n | awk '{v[NR] = $1} END {
    p50 = v[int((NR - 1) * 0.5) + 1]; p90 = v[int((NR - 1) * 0.9) + 1];
    printf "n=%d p50=%.1f ms p90=%.1f ms max=%.1f ms\n", NR, p50, p90, v[NR] }'
}
bad=$(awk '$1 != 200' "$work/totals" | wc -l)
echo "wakes answered with an error: $bad"
echo -n "open live view → stream live (HTTP round trip, curl):  "
awk '$1 == 200 {print $2 * 1000}' "$work/totals" | stats
echo -n "of which the server's own part:                        "
grep -o 'device.stream.woken path=push/[^ ]* server_us=[0-9]*' "$work/log" |
  sed -E 's/.*server_us=//' | awk '{print $1 / 1000}' | stats
echo -n "the same, whole, as the server saw it:                 "
grep -o 'device.stream.woken .* total_us=[0-9]*' "$work/log" |
  sed -E 's/.*total_us=//' | awk '{print $1 / 1000}' | stats
