#!/usr/bin/env bash
# RTSP ingest and WebSocket fan-out cost on loopback, bounded in count and time: N ffmpeg
# pushers (-re, -c copy, a 720p H.264 clip at ~2 Mbit/s) into one nightjar, then the same
# with one live WebSocket viewer each. Reports the server's CPU (from /proc, so the load
# generators' own CPU is not counted) and resident memory per stream.
# Usage: bench/load/rtsp_ingest.sh path/to/nightjar [streams=20] [seconds=20]
set -euo pipefail
bin=$(dirname "${1:?path to nightjar}")
streams=${2:-20}
seconds=${3:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/common.sh" ingest

ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 30 -c:v libx264 \
  -preset veryfast -b:v 2M -maxrate 2M -bufsize 2M -g 50 -bf 0 -pix_fmt yuv420p "$work/clip.mp4"

start_server --web-root "$root/web/dist"
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }

measure() {  # label
  local c0 c1
  c0=$(cpu)
  sleep "$seconds"
  c1=$(cpu)
  awk -v c="$((c1 - c0))" -v t="$ticks" -v s="$seconds" -v n="$streams" -v label="$1" -v rss="$(rss_kb)" \
    'BEGIN { pct = c / t / s * 100; printf "%s: server CPU %.2f%% of one core (%.3f%% per stream), RSS %.1f MB\n", label, pct, pct / n, rss / 1024 }'
}

idle_rss=$(rss_kb)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%Y-%m-%d)"
echo "server RSS with no streams: $((idle_rss / 1024)) MB"
for i in $(seq "$streams"); do
  token=$("$bin/nightjar" admin --data "$work/data" stream-token --serial "L$i" --purpose push --ttl-seconds 600)
  ffmpeg -loglevel quiet -re -stream_loop -1 -i "$work/clip.mp4" -c copy -f rtsp -rtsp_transport tcp \
    "rtsp://127.0.0.1:$rtsp/push/L$i?token=$token" </dev/null &
  pids+=($!)
done
sleep 5
measure "$streams pushed streams, no viewers"

# One WebSocket viewer per stream, from one Node process (lighter than a browser per viewer).
tokens=()
for i in $(seq "$streams"); do
  tokens+=("$("$bin/nightjar" admin --data "$work/data" stream-token --serial "L$i" --purpose play --ttl-seconds 600)")
done
node --experimental-websocket --no-warnings -e '
  const [port, seconds, ...tokens] = process.argv.slice(1);
  let bytes = 0, frames = 0;
  tokens.forEach((t, i) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/devices/L${i + 1}/live?token=${t}`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (m) => { if (typeof m.data !== "string") { bytes += m.data.byteLength; frames++; } };
  });
  setTimeout(() => { console.log(`viewers received ${frames} messages, ${(bytes / 1e6).toFixed(1)} MB`); process.exit(0); }, (Number(seconds) + 8) * 1000);
' "$http" "$seconds" "${tokens[@]}" &
viewer=$!
sleep 5
measure "$streams pushed streams, one WebSocket viewer each"
wait "$viewer" || true
