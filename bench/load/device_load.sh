#!/usr/bin/env bash
# The device figures of docs/BENCHMARKS.md (issue #5), on loopback, bounded in count and time:
#   1. N light device sessions (bench/device_load.cc: MQTT only, one process, one thread),
#      each registered, bound to one account by its own bind token, online: the server's
#      and its mosquitto child's CPU and memory while they are held;
#   2. RPC round trip through the API: PATCH /devices/{id} {"settings"} → config.set over
#      MQTT → the device's answer → HTTP response, sequentially, p50/p99;
#   3. the same on an idle server (one device), for comparison.
# Usage: bench/load/device_load.sh BUILD_BIN_DIR [devices=1000] [seconds=20] [rpcs=300]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
devices=${2:-1000}
seconds=${3:-20}
rpcs=${4:-300}
. "$(dirname "$0")/common.sh" device-load

start_server
broker=$(pgrep -f "[m]osquitto -c $work/data/mqtt/mosquitto.conf")
machine

# An account, verified from the kept mail (no SMTP here).
token=$(sign_up load@example.org)
auth=(-H "Authorization: Bearer $token")

echo "server idle: nightjar RSS $(rss_mb "$server") MB, mosquitto RSS $(rss_mb "$broker") MB"

# Devices: registered from a factory CSV, each with its own bind token.
{ echo serial; for i in $(seq "$devices"); do echo "LOAD-$i"; done; } >"$work/factory.csv"
"$bin/nightjar" admin --data "$work/data" device import --file "$work/factory.csv" >"$work/secrets.csv"
while IFS=, read -r serial secret; do
  bind=$(curl -s -X POST "$api/bind-tokens" "${auth[@]}" | sed -E 's/.*"token": *"([^"]+)".*/\1/')
  echo "$serial,$secret,$bind"
done <"$work/secrets.csv" >"$work/devices.csv"

"$bin/device_load" --mqtt "127.0.0.1:$mqtt" --devices "$work/devices.csv" --seconds $((seconds + 90 + rpcs / 5)) \
  >"$work/load.out" &
load=$!
pids+=("$load")
start=$(date +%s.%N)
for _ in $(seq 600); do
  online=$(curl -s "$api/devices" "${auth[@]}" | { grep -o '"online":true' || true; } | wc -l)
  [[ $online -ge $devices ]] && break
  sleep 0.1
done
echo "1. $online of $devices devices bound and online after $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}') s"
sleep 2
s0=$(cpu "$server"); b0=$(cpu "$broker"); l0=$(cpu "$load")
sleep "$seconds"
s1=$(cpu "$server"); b1=$(cpu "$broker"); l1=$(cpu "$load")
awk -v s=$((s1 - s0)) -v b=$((b1 - b0)) -v l=$((l1 - l0)) -v t="$ticks" -v d="$seconds" -v n="$devices" \
  -v rs="$(rss_mb "$server")" -v rb="$(rss_mb "$broker")" 'BEGIN {
  printf "   held for %d s: nightjar CPU %.2f%% of one core, RSS %s MB; mosquitto CPU %.2f%%, RSS %s MB; load tool CPU %.2f%%\n",
    d, s / t / d * 100, rs, b / t / d * 100, rb, l / t / d * 100 }'

# RPC round trips through the API, one at a time, spread over the devices.
ids=($(curl -s "$api/devices" "${auth[@]}" | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4))
: >"$work/rtt"
for i in $(seq "$rpcs"); do
  id=${ids[$((RANDOM % ${#ids[@]}))]}
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X PATCH "$api/devices/$id" "${auth[@]}" \
    -H 'Content-Type: application/json' -d "{\"settings\":{\"motion_sensitivity\":$((i % 100))}}" >>"$work/rtt"
done
ok=$(grep -c '^200 ' "$work/rtt" || true)
sort -k2 -n "$work/rtt" | awk -v n="$ok" -v label="2. RPC round trip through the API ($rpcs calls, $ok answered 200)" '
  $1 == 200 { v[++c] = $2 * 1000 }
  END { printf "%s: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", label, v[int(c * 0.5)], v[int(c * 0.99)], v[c] }'
tail -1 "$work/load.out" | sed 's/^/   load tool: /'
