#!/usr/bin/env bash
# The two-way talk figures of docs/BENCHMARKS.md (issue #15), on loopback, bounded in count
# and time: N cameras (device sessions of the device load tool, which play talk/{serial}
# over RTSP when asked, as nightjar-cam does) and one person talking to all N at once over
# the talk WebSocket (bench/load/talk_send.mjs: a 20 ms µ-law frame every 20 ms each). The
# delay is from the frame leaving the sender to the RTP packet reaching the camera (both
# clocks are this machine's); the server's CPU from /proc while the N calls run, against
# the same N cameras connected and silent.
# Usage: bench/load/talk_load.sh BUILD_BIN_DIR [calls=100] [seconds=20]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
calls=${2:-100}
seconds=${3:-20}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh" talk-load

start_server
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.05; done
admin() { "$bin/nightjar" admin --data "$work/data" "$@"; }
machine

token=$(sign_up talk@example.org)
{ echo serial; for i in $(seq "$calls"); do echo "TALK-$i"; done; } >"$work/factory.csv"
admin device import --file "$work/factory.csv" >"$work/secrets.csv"
: >"$work/ids.txt"
for i in $(seq "$calls"); do
  code=$(admin device label --serial "TALK-$i" | sed -E 's/.*"pairing_code":"([^"]+)".*/\1/')
  curl -s -X POST "$api/devices" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"serial\":\"TALK-$i\",\"pairing_code\":\"$code\"}" | grep -o '"id": *"[^"]*"' | head -1 |
    sed -E 's/.*"([^"]+)"$/\1/' >>"$work/ids.txt"
done
[[ $(wc -l <"$work/ids.txt") == "$calls" ]] || { echo "not every camera was added"; exit 1; }

"$bin/device_load" --mqtt "127.0.0.1:$mqtt" --devices "$work/secrets.csv" \
  --seconds $((seconds + 40)) --talk-log "$work/talk.log" >"$work/devices.out" &
pids+=($!)
for _ in $(seq 100); do
  online=$(curl -s "$api/devices" -H "Authorization: Bearer $token" | { grep -o '"online": *true' || true; } | wc -l)
  [[ $online -ge $calls ]] && break
  sleep 0.2
done
echo "$online of $calls cameras online"
sleep 2
c0=$(cpu); sleep 10; c1=$(cpu)
idle=$((c1 - c0))

node "$here/talk_send.mjs" "ws://127.0.0.1:$http/api/v1" "$token" "$work/ids.txt" "$seconds" >"$work/send.out" &
sender=$!
sleep 5  # every line open and listening
c0=$(cpu); sleep $((seconds - 8)); c1=$(cpu)
busy=$((c1 - c0))
wait "$sender"
cat "$work/send.out"
awk -v b="$busy" -v i="$idle" -v t="$ticks" -v s="$((seconds - 8))" -v n="$calls" -v rss="$(rss_mb)" \
  'BEGIN { bp = b / t / s * 100; ip = i / t / 10 * 100;
           printf "server CPU: %.2f%% of one core with %d calls, %.2f%% with the cameras silent: %.3f%% per call; RSS %s MB\n", bp, n, ip, (bp - ip) / n, rss }'
sleep 1
sort -n -k2 "$work/talk.log" | awk '{ d[NR] = $2 } END {
  if (NR == 0) { print "no talk packets arrived"; exit 1 }
  printf "sender -> camera: %d packets, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", NR, d[int(NR * 0.5)] / 1000, d[int(NR * 0.99)] / 1000, d[NR] / 1000 }'
