#!/usr/bin/env bash
# The server-side detection figure of docs/BENCHMARKS.md (issue #14), end to end, on
# loopback, bounded in count and time: N cameras push a 640×360 H.264 clip with a keyframe
# every 0.25 s (so the detector can look twice a second) through the media load tool; the
# server's CPU is measured while it only relays them, then again once their owner turned
# detection on for all of them. The difference per camera is what watching a camera costs,
# with everything it takes (subscriptions, decoding, motion, HOG, events); the detection
# thread's own gauge is printed beside it.
# scene=moving: testsrc2, which moves everywhere all the time (the worst case: motion never
# ends, and HOG runs as often as a scene without people allows); scene=still: a still
# picture (nothing moves: decoding and differencing only).
# Usage: bench/load/detection_load.sh BUILD_BIN_DIR [cameras=20] [seconds=20] [scene=moving]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
cameras=${2:-20}
seconds=${3:-20}
scene=${4:-moving}
. "$(dirname "$0")/common.sh" detection-load

source_filter=$([[ $scene == still ]] && echo "smptebars=size=640x360:rate=24" || echo "testsrc2=size=640x360:rate=24")
ffmpeg -loglevel error -y -f lavfi -i "$source_filter" -t 16 -c:v libx264 -preset veryfast \
  -b:v 1M -g 6 -keyint_min 6 -bf 0 -pix_fmt yuv420p "$work/clip.mp4"
start_server
admin() { "$bin/nightjar" admin --data "$work/data" "$@"; }
machine

token=$(sign_up detect@example.org)
auth=(-H "Authorization: Bearer $token")
{ echo serial; for i in $(seq "$cameras"); do echo "D$i"; done; } >"$work/factory.csv"
admin device import --file "$work/factory.csv" >/dev/null
: >"$work/push.txt"
: >"$work/ids.txt"
for i in $(seq "$cameras"); do
  code=$(admin device label --serial "D$i" | sed -E 's/.*"pairing_code":"([^"]+)".*/\1/')
  curl -s -X POST "$api/devices" "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"serial\":\"D$i\",\"pairing_code\":\"$code\"}" | grep -o '"id": *"[^"]*"' | head -1 |
    sed -E 's/.*"([^"]+)"$/\1/' >>"$work/ids.txt"
  echo "rtsp://127.0.0.1:$rtsp/push/D$i?token=$(admin stream-token --serial "D$i" --purpose push --ttl-seconds 3600)" >>"$work/push.txt"
done

# The clip, pre-packetized once by the load tool from one ffmpeg pusher.
ffmpeg -loglevel quiet -re -stream_loop -1 -i "$work/clip.mp4" -c copy -f rtsp -rtsp_transport tcp \
  "rtsp://127.0.0.1:$rtsp/push/SRC?token=$(admin stream-token --serial SRC --purpose push)" </dev/null &
pids+=($!)
sleep 2
"$bin/rtsp_load" record --url "rtsp://127.0.0.1:$rtsp/live/SRC?token=$(admin stream-token --serial SRC --purpose play)" \
  --seconds 12 --out "$work/clip.njclip" >/dev/null
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

"$bin/rtsp_load" run --clip "$work/clip.njclip" --seconds $((seconds * 2 + 40)) \
  --push-urls "$work/push.txt" --threads 1 >"$work/pushers.out" &
pids+=($!)
sleep 8
c0=$(cpu); sleep "$seconds"; c1=$(cpu)
relay=$((c1 - c0))
awk -v c="$relay" -v t="$ticks" -v s="$seconds" -v n="$cameras" \
  'BEGIN { p = c / t / s * 100; printf "1. %d cameras relayed: server CPU %.2f%% of one core (%.3f%% per camera)\n", n, p, p / n }'

while read -r id; do
  status=$(curl -s -o "$work/patch.out" -w '%{http_code}' -X PATCH "$api/devices/$id/detection" \
    "${auth[@]}" -H 'Content-Type: application/json' -d '{"enabled":true,"person":true}')
  [[ $status == 200 ]] || { echo "detection not turned on for $id: $status $(cat "$work/patch.out")"; exit 1; }
done <"$work/ids.txt"
[[ $(wc -l <"$work/ids.txt") == "$cameras" ]] || { echo "not every camera was added"; exit 1; }
sleep 10
c0=$(cpu); sleep "$seconds"; c1=$(cpu)
metrics=$(curl -s "http://127.0.0.1:$http/metrics")
share=$(echo "$metrics" | awk '/^nightjar_detection_core_share / {print $2}')
watched=$(echo "$metrics" | awk '/^nightjar_detection_cameras / {print $2}')
awk -v c="$((c1 - c0))" -v r="$relay" -v t="$ticks" -v s="$seconds" -v n="$cameras" -v g="$share" -v w="$watched" \
  'BEGIN { p = c / t / s * 100; d = (c - r) / t / s * 100;
           printf "2. %d cameras relayed and watched (%s by the detector): server CPU %.2f%% of one core; detection %.3f%% of a core per camera (the detection thread'"'"'s own gauge: %.2f%% in all, %.3f%% per camera)\n", n, w, p, d / n, g * 100, g * 100 / n }'
curl -s "$api/events?limit=200" "${auth[@]}" | grep -o '"kind": *"[a-z_]*"' | sort | uniq -c | sed 's/^/   events: /'
grep -E "streaming" "$work/pushers.out" | sed 's/^/   pushers: /' || true
